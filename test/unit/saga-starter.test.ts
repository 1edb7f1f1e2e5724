/**
 * The API's saga starter, as a pure unit: a fake Temporal client and database record what it
 * is asked (the real start path is covered by test/api/request-path and the e2e suite).
 * It defers starts while the API is busy, leaves to the relay a start still waiting at its
 * bound while the API is still busy (no Temporal call here during a sustained stream), and
 * leaves to the relay a start queued past the relay's grace instead of racing it.
 */
import type { Client } from '@temporalio/client';
import type { Db } from '../../data/db';
import { SagaStarter } from '../../use-cases/order-sagas';
import type { OrderWorkflowInput } from '../../domain/order-saga';

function fakes() {
  const started: string[] = [];
  const temporal = {
    workflow: {
      start: async (_type: string, options: { workflowId: string }) => {
        started.push(options.workflowId);
      },
    },
  } as unknown as Client;
  const db = { $executeRaw: async () => 0 } as unknown as Db;
  return { started, temporal, db };
}
const input = (orderId: string): OrderWorkflowInput => ({
  order: { orderId, userId: 'u', lines: [{ sku: 'S', warehouseCode: 'W', quantity: 1 }] },
  ttlSeconds: 60,
});
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('starts at once when the API is not busy', async () => {
  const { started, temporal, db } = fakes();
  const starter = new SagaStarter(db, temporal, 'q');
  starter.start(input('a'));
  await tick(10);
  expect(started).toEqual(['order-a']);
});

it('waits while busy, then starts when the burst is over', async () => {
  const { started, temporal, db } = fakes();
  const starter = new SagaStarter(db, temporal, 'q');
  let busy = true;
  starter.busy = () => busy;
  starter.maxDeferMs = 10_000;
  starter.start(input('a'));
  await tick(200);
  expect(started).toEqual([]);
  busy = false;
  await tick(200);
  expect(started).toEqual(['order-a']);
});

it('leaves a start to the relay once it waited its bound and the API is still busy; later ones wait on', async () => {
  const { started, temporal, db } = fakes();
  const starter = new SagaStarter(db, temporal, 'q');
  let busy = true;
  starter.busy = () => busy;
  starter.maxDeferMs = 300;
  starter.start(input('a'));
  await tick(100);
  starter.start(input('b'));
  await tick(300);
  // a reached its bound during the burst: the relay's (its outbox row is unmarked); b waits on.
  expect(started).toEqual([]);
  expect(starter.leftToRelay).toBe(1);
  expect(starter.pending).toBe(1);
  busy = false;
  await tick(100);
  expect(started).toEqual(['order-b']);
  expect(starter.pending).toBe(0);
});

it('leaves a start queued past the hand-off to the relay, and starts the fresh ones', async () => {
  const { started, temporal, db } = fakes();
  const starter = new SagaStarter(db, temporal, 'q');
  let busy = true;
  starter.busy = () => busy;
  starter.maxDeferMs = 10_000;
  starter.handOffMs = 200;
  starter.start(input('old'));
  await tick(300);
  starter.start(input('new'));
  busy = false;
  await tick(200);
  expect(started).toEqual(['order-new']);
  expect(starter.leftToRelay).toBe(1);
  expect(starter.pending).toBe(0);
});

it('runs fewer starts at once while Temporal answers slowly, and as many again once it is fast', async () => {
  let inFlight = 0;
  // Slow is well above the target and fast well below it, so a busy machine's event-loop delay
  // (a CI run beside other work) cannot turn a fast start into a slow one.
  let latencyMs = 150;
  const peaks: number[] = [];
  const temporal = {
    workflow: {
      start: async () => {
        inFlight += 1;
        peaks.push(inFlight);
        await tick(latencyMs);
        inFlight -= 1;
      },
    },
  } as unknown as Client;
  const db = { $executeRaw: async () => 0 } as unknown as Db;
  // 16 at most; a start slower than 60 ms is slow.
  const starter = new SagaStarter(db, temporal, 'q', 16, () => undefined, 0, 60);
  for (let i = 0; i < 64; i += 1) starter.start(input(`slow-${i}`));
  while (starter.pending > 0) await tick(5);
  expect(peaks[0]).toBe(1);
  expect(Math.max(...peaks.slice(0, 16))).toBe(16); // the first window is the configured one
  expect(Math.max(...peaks.slice(32))).toBeLessThanOrEqual(8); // halved once the slow answers came
  expect(starter.window.limit).toBeLessThan(16);

  latencyMs = 0;
  for (let i = 0; i < 400; i += 1) starter.start(input(`fast-${i}`));
  while (starter.pending > 0) await tick(5);
  expect(starter.window.limit).toBe(16);
});

it('a failing Temporal narrows the window to one start at a time', async () => {
  const temporal = {
    workflow: {
      start: async () => {
        throw new Error('unreachable');
      },
    },
  } as unknown as Client;
  const db = { $executeRaw: async () => 0 } as unknown as Db;
  const starter = new SagaStarter(db, temporal, 'q', 16);
  for (let i = 0; i < 100; i += 1) starter.start(input(`down-${i}`));
  while (starter.pending > 0) await tick(5);
  expect(starter.window.limit).toBe(1);
});
