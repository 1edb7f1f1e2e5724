/**
 * The sweeper backstop and its schedule, on the dev server (the time-skipping server has no
 * schedules): orphaned expired holds are released; holds owned by a live saga are left to it
 * and, past expiry + grace, reported (alert pushed to the webhook, gauge, result count).
 * One hold's trouble (Temporal failing, a release timing out) never stops the pass; the
 * outbox is read before Temporal, so a saga the relay starts in between keeps its hold.
 */
import { MockActivityEnvironment, type TestWorkflowEnvironment } from '@temporalio/testing';
import type { Client } from '@temporalio/client';
import { DefaultLogger } from '@temporalio/worker';
import { sweepExpiredHolds } from '../../activities/sweep';
import { relaySagaStarts } from '../../use-cases/order-sagas';
import { createHoldPool, HoldBatcher } from '../../data/orders/request-hold';
import { reserveStock } from '../../data/orders/reservations';
import type { Db } from '../../data/db';
import { cancelOrder } from '../../use-cases/orders';
import { placeOrder } from '../helpers/saga-reserve';
import { ensureSweeperSchedule } from '../../use-cases/schedules';
import { SWEEPER_SCHEDULE_ID } from '../../workflows/ids';
import type { SweepResult } from '../../domain/reports';
import { invariantViolations, level, stock } from '../helpers/db';
import { TEST_DATABASE_URL, testConfig } from '../helpers/env';
import { useAlertReceiver } from '../helpers/alert-receiver';
import { useSagaStack } from '../helpers/temporal';
import { blockLevel } from '../helpers/locks';

const TASK_QUEUE = 'sweeper-test';
const SECRET = 'sweeper-alert-secret';
const alerts = useAlertReceiver<{ kind: string; subject?: string; details: { orderId?: string } }>(SECRET);
const pushed = () => alerts.received.map((r) => r.body);

const stack = useSagaStack('dev', TASK_QUEUE, () => ({ alertWebhook: { url: alerts.url, secret: SECRET } }));
let env: TestWorkflowEnvironment;
let db: Db;
beforeAll(() => {
  ({ env, db } = stack);
});

it('releases expired holds whose workflow is gone, and only those', async () => {
  await stock(db, 'SW', 'W1', 10);
  const past = new Date(Date.now() - 10 * 60_000).toISOString();
  // An orphan: held, expired, and no workflow (as if its workflow had been terminated).
  await reserveStock(db, {
    reservationId: 'orphan',
    orderId: 'orphan',
    userId: 'u',
    lines: [{ sku: 'SW', warehouseCode: 'W1', quantity: 3 }],
    expiresAt: past,
  });
  // A live saga whose hold looks expired in the database must be left to its workflow.
  await placeOrder(
    env.client,
    { orderId: 'alive', userId: 'u', lines: [{ sku: 'SW', warehouseCode: 'W1', quantity: 2 }] },
    { taskQueue: TASK_QUEUE, ttlSeconds: 600 },
  );
  await db.reservation.update({ where: { id: 'alive' }, data: { expiresAt: new Date(past) } });
  expect(await level(db, 'SW', 'W1')).toEqual({ onHand: 10, reserved: 5 });

  const result = await sweep('sweep-1');
  expect(result).toEqual({ examined: 2, released: 1, runningPastExpiry: 1, sagasStarted: 0 });
  expect(await level(db, 'SW', 'W1')).toEqual({ onHand: 10, reserved: 2 });
  expect(await db.reservation.findUnique({ where: { id: 'orphan' } })).toMatchObject({
    status: 'RELEASED',
    releaseReason: 'SWEEPER',
  });
  expect(await db.reservation.findUnique({ where: { id: 'alive' } })).toMatchObject({ status: 'RESERVED' });
  expect(await invariantViolations(db)).toEqual([]);

  // The live saga past expiry + grace is reported, not skipped silently: an alert (pushed to
  // the webhook by the same sweep), the gauge, the count above.
  const alerts = await db.stockAlert.findMany({ where: { kind: 'SAGA_PAST_EXPIRY' } });
  expect(alerts).toEqual([
    expect.objectContaining({
      subject: 'alive',
      sku: 'SW',
      warehouseCode: 'W1',
      details: expect.objectContaining({
        orderId: 'alive',
        workflowId: 'order-alive',
        expiresAt: past,
        lines: [{ sku: 'SW', warehouseCode: 'W1', quantity: 2 }],
      }),
      deliveredAt: expect.any(Date),
    }),
  ]);
  expect(pushed()).toEqual([
    expect.objectContaining({ kind: 'SAGA_PAST_EXPIRY', details: expect.objectContaining({ orderId: 'alive' }) }),
  ]);
  expect(await pastExpiryGauge()).toBe(1);

  // Still stuck at the next sweep: counted again, alerted once per hold, ever.
  expect(await sweep('sweep-2')).toEqual({ examined: 1, released: 0, runningPastExpiry: 1, sagasStarted: 0 });
  expect(await db.stockAlert.count({ where: { kind: 'SAGA_PAST_EXPIRY' } })).toBe(1);
  expect(pushed()).toHaveLength(1);

  // Once its saga closed the hold, the gauge falls back to 0.
  await cancelOrder(
    { temporal: env.client, db, taskQueue: TASK_QUEUE, queryTimeoutMs: 5_000, waitTimeoutMs: 15_000 },
    'alive',
    'test',
  );
  await env.client.workflow.getHandle('order-alive').result();
  expect(await sweep('sweep-3')).toEqual({ examined: 0, released: 0, runningPastExpiry: 0, sagasStarted: 0 });
  expect(await pastExpiryGauge()).toBe(0);
  expect(await level(db, 'SW', 'W1')).toEqual({ onHand: 10, reserved: 0 });
});

const sweep = async (workflowId: string) =>
  (await env.client.workflow.execute('sweeperWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId,
    args: [60],
  })) as SweepResult;
const pastExpiryGauge = async () => (await stack.worker.metrics.sagasPastExpiry.get()).values[0]?.value;

it('a release PostgreSQL refuses for good is alerted and skipped; the holds behind it are still released', async () => {
  await stock(db, 'SW-BAD', 'W1', 10);
  await stock(db, 'SW-OK', 'W1', 10);
  const expired = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
  const orphan = (id: string, sku: string, minutesAgo: number) =>
    reserveStock(db, {
      reservationId: id,
      orderId: id,
      userId: 'u',
      lines: [{ sku, warehouseCode: 'W1', quantity: 3 }],
      expiresAt: expired(minutesAgo),
    });
  // The oldest expired hold sits on a level that drifted (its reserved count lost the hold):
  // giving the 3 units back would take reserved below 0, which its CHECK refuses (23514).
  await orphan('bad-hold', 'SW-BAD', 30);
  await orphan('ok-hold', 'SW-OK', 20);
  await db.$executeRaw`UPDATE inventory_levels SET reserved = 0 WHERE sku = 'SW-BAD'`;

  expect(await sweep('sweep-bad')).toEqual({
    examined: 2,
    released: 1,
    runningPastExpiry: 0,
    sagasStarted: 0,
    releaseFailed: 1,
  });
  expect(await db.reservation.findUnique({ where: { id: 'ok-hold' } })).toMatchObject({
    status: 'RELEASED',
    releaseReason: 'SWEEPER',
  });
  expect(await db.reservation.findUnique({ where: { id: 'bad-hold' } })).toMatchObject({ status: 'RESERVED' });
  expect(await level(db, 'SW-OK', 'W1')).toEqual({ onHand: 10, reserved: 0 });
  const failed = await db.stockAlert.findMany({ where: { kind: 'RELEASE_FAILED' } });
  expect(failed).toEqual([
    expect.objectContaining({
      subject: 'bad-hold',
      sku: 'SW-BAD',
      details: expect.objectContaining({ orderId: 'bad-hold', code: 'CONSTRAINT_VIOLATION', sqlState: '23514' }),
      deliveredAt: expect.any(Date),
    }),
  ]);
  expect(pushed()).toContainEqual(
    expect.objectContaining({ kind: 'RELEASE_FAILED', details: expect.objectContaining({ orderId: 'bad-hold' }) }),
  );

  // Alerted once per hold, ever; once the level is repaired, the next sweep releases it.
  expect(await sweep('sweep-bad-2')).toMatchObject({ examined: 1, released: 0, releaseFailed: 1 });
  expect(await db.stockAlert.count({ where: { kind: 'RELEASE_FAILED' } })).toBe(1);
  await db.$executeRaw`UPDATE inventory_levels SET reserved = 3 WHERE sku = 'SW-BAD'`;
  expect(await sweep('sweep-bad-3')).toEqual({ examined: 1, released: 1, runningPastExpiry: 0, sagasStarted: 0 });
  expect(await level(db, 'SW-BAD', 'W1')).toEqual({ onHand: 10, reserved: 0 });
  expect(await invariantViolations(db)).toEqual([]);
});

it('the schedule is created once and follows the configured interval', async () => {
  const config = testConfig({ TEMPORAL_TASK_QUEUE: TASK_QUEUE, SWEEPER_INTERVAL: '5m' });
  const schedule = env.client.schedule.getHandle(SWEEPER_SCHEDULE_ID);
  try {
    await ensureSweeperSchedule(env.client, config);
    await ensureSweeperSchedule(env.client, { ...config, sweeperInterval: '2m' });
    const description = await schedule.describe();
    expect(description.spec.intervals?.map((i) => i.every)).toEqual([120_000]);
    expect(description.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'sweeperWorkflow',
      taskQueue: TASK_QUEUE,
      args: [60],
    });
  } finally {
    // Left in place, it fires on every even minute (intervals align to the epoch), and its real
    // sweep released the holds a later test keeps back on purpose (a CI run crossing 21:24:00).
    await schedule.delete().catch(() => undefined);
  }
});

it('a hold whose saga never started (the API died after the commit) is handed to its saga, which releases it', async () => {
  await stock(db, 'NS', 'W1', 5);
  const pool = createHoldPool(TEST_DATABASE_URL, 1);
  const batcher = new HoldBatcher(db, pool);
  const expiresAt = new Date(Date.now() - 10 * 60_000).toISOString();
  const line = { sku: 'NS', warehouseCode: 'W1', quantity: 2 };
  const order = { orderId: 'never-started', userId: 'u', lines: [line] };
  const reserved = {
    status: 'reserved' as const,
    reservationId: order.orderId,
    lines: [line],
    allocations: [],
    expiresAt,
  };
  // What the request path commits: the hold and its saga's outbox row, and then no start.
  await batcher.hold(
    { kind: 'level', sku: 'NS', warehouseCode: 'W1' },
    {
      serial: order.orderId,
      orderId: order.orderId,
      userId: 'u',
      quantity: 2,
      expiresAt,
      reserved,
      saga: { order, ttlSeconds: 600, reservation: reserved },
    },
  );
  expect(await level(db, 'NS', 'W1')).toEqual({ onHand: 5, reserved: 2 });
  expect(await sweep('sweep-ns')).toMatchObject({ released: 0, sagasStarted: 1 });
  const state = await env.client.workflow.getHandle('order-never-started').result();
  expect(state).toMatchObject({ status: 'RELEASED', releaseReason: 'EXPIRED' });
  expect(await level(db, 'NS', 'W1')).toEqual({ onHand: 5, reserved: 0 });
  expect(await db.sagaStart.findUnique({ where: { orderId: 'never-started' } })).toMatchObject({
    startedAt: expect.any(Date),
  });
  await pool.end();
});

/**
 * The sweeper's own Temporal client with something slipped in between its calls for one
 * workflow: `afterDescribe` runs once the real describe has answered (before the sweeper sees
 * the answer), `beforeStart` before the real start, `describeFails` makes a describe fail as an
 * unreachable Temporal would. Everything else is the dev server.
 */
function interleaved(
  client: Client,
  hooks: {
    afterDescribe?: (workflowId: string) => Promise<void>;
    beforeStart?: (workflowId: string) => Promise<void>;
    describeFails?: string;
  },
): Client {
  const workflow = Object.create(client.workflow, {
    getHandle: {
      value: (workflowId: string) => {
        const handle = client.workflow.getHandle(workflowId);
        const describe = async () => {
          if (workflowId === hooks.describeFails)
            throw new Error('14 UNAVAILABLE: No connection established (injected)');
          try {
            return await handle.describe();
          } finally {
            await hooks.afterDescribe?.(workflowId);
          }
        };
        return Object.assign(Object.create(handle), { describe });
      },
    },
    start: {
      value: async (type: string, options: { workflowId: string }) => {
        await hooks.beforeStart?.(options.workflowId);
        return client.workflow.start(type, options as never);
      },
    },
  });
  return Object.create(client, { workflow: { value: workflow } }) as Client;
}

const quiet = new DefaultLogger('ERROR', () => undefined);
/** One pass of the sweeper's activity, in an activity context, with the given Temporal client. */
const sweepWith = (client: Client) =>
  new MockActivityEnvironment(undefined, { logger: quiet }).run(
    sweepExpiredHolds,
    db,
    client,
    stack.worker.metrics,
    TASK_QUEUE,
    60,
  ) as Promise<SweepResult>;

it('one hold Temporal cannot answer for and one release timing out on a lock do not stop the pass', async () => {
  for (const sku of ['PI-T', 'PI-L', 'PI-OK']) await stock(db, sku, 'W1', 10);
  const orphan = (id: string, sku: string, minutesAgo: number) =>
    reserveStock(db, {
      reservationId: id,
      orderId: id,
      userId: 'u',
      lines: [{ sku, warehouseCode: 'W1', quantity: 3 }],
      expiresAt: new Date(Date.now() - minutesAgo * 60_000).toISOString(),
    });
  // Oldest first: the two bad ones come before the good one.
  await orphan('pi-temporal', 'PI-T', 40);
  await orphan('pi-locked', 'PI-L', 35);
  await orphan('pi-ok', 'PI-OK', 30);
  const blocker = await blockLevel('PI-L', 'W1');
  let result: SweepResult;
  try {
    result = await sweepWith(interleaved(env.client, { describeFails: 'order-pi-temporal' }));
  } finally {
    await blocker.release();
  }
  expect(result).toEqual({ examined: 3, released: 1, runningPastExpiry: 0, sagasStarted: 0, itemErrors: 2 });
  expect(await db.reservation.findUnique({ where: { id: 'pi-ok' } })).toMatchObject({
    status: 'RELEASED',
    releaseReason: 'SWEEPER',
  });
  for (const id of ['pi-temporal', 'pi-locked'])
    expect(await db.reservation.findUnique({ where: { id } })).toMatchObject({ status: 'RESERVED' });
  // Nothing was raised for good: the next pass, with Temporal and the row back, releases both.
  expect(await db.stockAlert.count({ where: { subject: { in: ['pi-temporal', 'pi-locked'] } } })).toBe(0);
  expect(await sweepWith(env.client)).toEqual({ examined: 2, released: 2, runningPastExpiry: 0, sagasStarted: 0 });
  expect(await invariantViolations(db)).toEqual([]);
});

it('a saga the relay starts while the sweeper looks at its hold keeps the hold (outbox read before Temporal)', async () => {
  await stock(db, 'RACE', 'W1', 5);
  const pool = createHoldPool(TEST_DATABASE_URL, 1);
  const expiresAt = new Date(Date.now() - 10 * 60_000).toISOString();
  const line = { sku: 'RACE', warehouseCode: 'W1', quantity: 2 };
  const order = { orderId: 'raced', userId: 'u', lines: [line] };
  const reserved = {
    status: 'reserved' as const,
    reservationId: order.orderId,
    lines: [line],
    allocations: [],
    expiresAt,
  };
  // The request path's commit (hold + unmarked outbox row), and no start yet.
  await new HoldBatcher(db, pool).hold(
    { kind: 'level', sku: 'RACE', warehouseCode: 'W1' },
    {
      serial: order.orderId,
      orderId: order.orderId,
      userId: 'u',
      quantity: 2,
      expiresAt,
      reserved,
      saga: { order, ttlSeconds: 600, reservation: reserved },
    },
  );
  await pool.end();
  // The worker's relay runs one pass between the sweeper's first look and its second, which
  // ever comes first: its start and mark land after the sweeper's first read.
  let relayed = 0;
  const relay = async (workflowId: string) => {
    if (workflowId !== 'order-raced' || relayed++ > 0) return;
    expect(await relaySagaStarts(db, env.client, TASK_QUEUE, { graceMs: 0, intervalMs: 0, batch: 10 })).toBe(1);
  };
  const result = await sweepWith(interleaved(env.client, { afterDescribe: relay, beforeStart: relay }));
  expect(relayed).toBeGreaterThan(0);
  // The saga owns the hold: the sweeper handed it over (its start joined the relay's) and
  // released nothing; the saga released it as EXPIRED.
  expect(result).toMatchObject({ released: 0, sagasStarted: 1 });
  expect(await env.client.workflow.getHandle('order-raced').result()).toMatchObject({
    status: 'RELEASED',
    releaseReason: 'EXPIRED',
  });
  expect(await db.reservation.findUnique({ where: { id: 'raced' } })).toMatchObject({
    status: 'RELEASED',
    releaseReason: 'EXPIRED',
  });
  expect(await db.stockMovement.count({ where: { reference: 'raced', reason: 'RELEASE' } })).toBe(1);
  expect(await level(db, 'RACE', 'W1')).toEqual({ onHand: 5, reserved: 0 });
  expect(await invariantViolations(db)).toEqual([]);
});
