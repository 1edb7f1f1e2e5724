/**
 * The sweeper backstop and its schedule, on the dev server (the time-skipping server has no
 * schedules): orphaned expired holds are released; holds owned by a live saga are left to it
 * and, past expiry + grace, reported (alert pushed to the webhook, gauge, result count).
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createHoldPool, HoldBatcher } from '../../data/stock/request-hold';
import { reserveStock } from '../../data/stock/reservations';
import type { Db } from '../../data/stock/db';
import { cancelOrder } from '../../api/routes/orders/service';
import { placeOrder } from '../helpers/saga-reserve';
import { ensureSweeperSchedule } from '../../platform/temporal';
import { SWEEPER_SCHEDULE_ID } from '../../workflows/ids';
import type { SweepResult } from '../../domain/reports';
import { invariantViolations, level, stock } from '../helpers/db';
import { TEST_DATABASE_URL, testConfig } from '../helpers/env';
import { useAlertReceiver } from '../helpers/alert-receiver';
import { useSagaStack } from '../helpers/temporal';

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
  expect(await db.reservation.findUnique({ where: { id: 'orphan' } })).toMatchObject({ status: 'RELEASED', releaseReason: 'SWEEPER' });
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
  expect(pushed()).toEqual([expect.objectContaining({ kind: 'SAGA_PAST_EXPIRY', details: expect.objectContaining({ orderId: 'alive' }) })]);
  expect(await pastExpiryGauge()).toBe(1);

  // Still stuck at the next sweep: counted again, alerted once per hold, ever.
  expect(await sweep('sweep-2')).toEqual({ examined: 1, released: 0, runningPastExpiry: 1, sagasStarted: 0 });
  expect(await db.stockAlert.count({ where: { kind: 'SAGA_PAST_EXPIRY' } })).toBe(1);
  expect(pushed()).toHaveLength(1);

  // Once its saga closed the hold, the gauge falls back to 0.
  await cancelOrder(env.client, db, TASK_QUEUE, 'alive', 'test');
  await env.client.workflow.getHandle('order-alive').result();
  expect(await sweep('sweep-3')).toEqual({ examined: 0, released: 0, runningPastExpiry: 0, sagasStarted: 0 });
  expect(await pastExpiryGauge()).toBe(0);
  expect(await level(db, 'SW', 'W1')).toEqual({ onHand: 10, reserved: 0 });
});

const sweep = async (workflowId: string) =>
  (await env.client.workflow.execute('sweeperWorkflow', { taskQueue: TASK_QUEUE, workflowId, args: [60] })) as SweepResult;
const pastExpiryGauge = async () => (await stack.worker.metrics.sagasPastExpiry.get()).values[0]?.value;

it('a release PostgreSQL refuses for good is alerted and skipped; the holds behind it are still released', async () => {
  await stock(db, 'SW-BAD', 'W1', 10);
  await stock(db, 'SW-OK', 'W1', 10);
  const expired = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
  const orphan = (id: string, sku: string, minutesAgo: number) =>
    reserveStock(db, { reservationId: id, orderId: id, userId: 'u', lines: [{ sku, warehouseCode: 'W1', quantity: 3 }], expiresAt: expired(minutesAgo) });
  // The oldest expired hold sits on a level that drifted (its reserved count lost the hold):
  // giving the 3 units back would take reserved below 0, which its CHECK refuses (23514).
  await orphan('bad-hold', 'SW-BAD', 30);
  await orphan('ok-hold', 'SW-OK', 20);
  await db.$executeRaw`UPDATE inventory_levels SET reserved = 0 WHERE sku = 'SW-BAD'`;

  expect(await sweep('sweep-bad')).toEqual({ examined: 2, released: 1, runningPastExpiry: 0, sagasStarted: 0, releaseFailed: 1 });
  expect(await db.reservation.findUnique({ where: { id: 'ok-hold' } })).toMatchObject({ status: 'RELEASED', releaseReason: 'SWEEPER' });
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
  expect(pushed()).toContainEqual(expect.objectContaining({ kind: 'RELEASE_FAILED', details: expect.objectContaining({ orderId: 'bad-hold' }) }));

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
  await ensureSweeperSchedule(env.client, config);
  await ensureSweeperSchedule(env.client, { ...config, sweeperInterval: '2m' });
  const description = await env.client.schedule.getHandle(SWEEPER_SCHEDULE_ID).describe();
  expect(description.spec.intervals?.map((i) => i.every)).toEqual([120_000]);
  expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'sweeperWorkflow', taskQueue: TASK_QUEUE, args: [60] });
});

it('a hold whose saga never started (the API died after the commit) is handed to its saga, which releases it', async () => {
  await stock(db, 'NS', 'W1', 5);
  const pool = createHoldPool(TEST_DATABASE_URL, 1);
  const batcher = new HoldBatcher(db, pool);
  const expiresAt = new Date(Date.now() - 10 * 60_000).toISOString();
  const line = { sku: 'NS', warehouseCode: 'W1', quantity: 2 };
  const order = { orderId: 'never-started', userId: 'u', lines: [line] };
  const reserved = { status: 'reserved' as const, reservationId: order.orderId, lines: [line], allocations: [], expiresAt };
  // What the request path commits: the hold and its saga's outbox row, and then no start.
  await batcher.hold(
    { kind: 'level', sku: 'NS', warehouseCode: 'W1' },
    { serial: order.orderId, orderId: order.orderId, userId: 'u', quantity: 2, expiresAt, reserved, saga: { order, ttlSeconds: 600, reservation: reserved } },
  );
  expect(await level(db, 'NS', 'W1')).toEqual({ onHand: 5, reserved: 2 });
  expect(await sweep('sweep-ns')).toMatchObject({ released: 0, sagasStarted: 1 });
  const state = await env.client.workflow.getHandle('order-never-started').result();
  expect(state).toMatchObject({ status: 'RELEASED', releaseReason: 'EXPIRED' });
  expect(await level(db, 'NS', 'W1')).toEqual({ onHand: 5, reserved: 0 });
  expect(await db.sagaStart.findUnique({ where: { orderId: 'never-started' } })).toMatchObject({ startedAt: expect.any(Date) });
  await pool.end();
});
