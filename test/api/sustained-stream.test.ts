/**
 * A sustained stream of winners on the real stack (API, worker, dev server, PostgreSQL,
 * Redis): while the API is still busy answering when a saga start has waited its bound
 * (SAGA_START_MAX_DEFER_MS), the start is left to the worker's relay instead of being made
 * here — the API spends no CPU on Temporal calls during the stream — and every hold still gets
 * its saga: the relay starts what the API left, once.
 */
import { relaySagaStarts } from '../../use-cases/order-sagas';
import { orderWorkflowId } from '../../workflows/ids';
import { eventually, useAppStack } from '../helpers/app';
import { invariantViolations, level, stock } from '../helpers/db';

const TASK_QUEUE = 'sustained-stream-test';
// Busy with one request in flight, and a short bound: a stream of a second is "sustained".
// The order limits are out of reach, as in the bench: one key places every order.
const stack = useAppStack('dev', TASK_QUEUE, {
  SAGA_START_BUSY_REQUESTS: '1',
  SAGA_START_MAX_DEFER_MS: '150',
  KEY_RATE_LIMIT_PER_MINUTE: '100000000',
  ORDER_RATE_LIMIT_PER_MINUTE: '1000000',
});
afterEach(async () => expect(await invariantViolations(stack.db)).toEqual([]));

const sagaExists = (orderId: string) =>
  stack.env.client.workflow
    .getHandle(orderWorkflowId(orderId))
    .describe()
    .then(
      () => true,
      () => false,
    );

it('leaves the starts to the relay while the stream lasts, and every hold gets its saga once', async () => {
  const { db, app } = stack;
  await stock(db, 'STREAM', 'W1', 1_000);
  const starter = app.holds.starter;
  const leftBefore = starter.leftToRelay;
  const ids: string[] = [];
  const until = Date.now() + 1_500;
  // Four shoppers ordering back to back: a request is in flight throughout.
  await Promise.all(
    Array.from({ length: 4 }, async (_, shopper) => {
      for (let n = 0; Date.now() < until; n += 1) {
        const orderId = `st-${shopper}-${n}`;
        const res = await app.inject({
          method: 'POST',
          url: '/orders',
          payload: {
            orderId,
            userId: `u-${shopper}-${n}`,
            lines: [{ sku: 'STREAM', warehouseCode: 'W1', quantity: 1 }],
          },
        });
        expect(res.statusCode).toBe(201);
        ids.push(orderId);
      }
    }),
  );
  const left = starter.leftToRelay - leftBefore;
  expect(left).toBeGreaterThan(0);
  expect(await level(db, 'STREAM', 'W1')).toEqual({ onHand: 1_000, reserved: ids.length });
  // What the API left is still unmarked in the outbox (no Temporal call made for it here)…
  const unstarted = await db.sagaStart.count({ where: { orderId: { in: ids }, startedAt: null } });
  expect(unstarted).toBeGreaterThanOrEqual(left);
  // …and the relay (the worker's pass, run here at once) starts each of them.
  await relaySagaStarts(db, stack.env.client, TASK_QUEUE, { graceMs: 0, intervalMs: 0, batch: 1_000 });
  await eventually(
    () => db.sagaStart.count({ where: { orderId: { in: ids }, startedAt: null } }),
    (n) => n === 0,
  );
  const exist = await Promise.all(ids.map(sagaExists));
  expect(exist.every(Boolean)).toBe(true);
  // The starts still queued when the stream ended run here (a start is idempotent).
  await eventually(
    () => Promise.resolve(starter.pending),
    (n) => n === 0,
  );
}, 60_000);
