/**
 * Every payment closes, on the real stack (Temporal dev server, the real worker activities,
 * PostgreSQL, Redis): a payment that lands at any saga ending is settled and recorded in
 * PostgreSQL; wrong amounts and double charges are stored; the webhook decides from
 * PostgreSQL when Temporal no longer has the saga; the backstop catches what slipped through.
 */
import type { FastifyInstance } from 'fastify';
import Redis from 'ioredis';
import { Client } from 'pg';
import { createGate } from '../../data/gate';
import type { Db } from '../../data/db';
import { orderWorkflowId } from '../../workflows/ids';
import type { OrderState } from '../../domain/order-saga';
import { statusQuery } from '../../workflows/messages';
import { eventually, signedPayment, useAppStack } from '../helpers/app';
import { invariantViolations, level, stock } from '../helpers/db';
import { TEST_DATABASE_URL } from '../helpers/env';
import { startOwnRedis, type OwnRedis } from '../helpers/redis-server';
import { placeOrder as sagaReserves } from '../helpers/saga-reserve';

const TASK_QUEUE = 'payments-test';
const ADMIN = { authorization: 'Bearer test-admin-token' };
const SECRET = 'test-webhook-secret';

// The worker gives gate tokens back through a private redis-server this file can kill.
let ownRedis: OwnRedis;
let workerRedis: Redis;
beforeAll(async () => {
  ownRedis = await startOwnRedis();
  workerRedis = new Redis(ownRedis.url, { maxRetriesPerRequest: 1, lazyConnect: false });
  workerRedis.on('error', () => undefined);
});
const stack = useAppStack('dev', TASK_QUEUE, { RESERVATION_TTL_SECONDS: '3', PAYMENT_SETTLE_MINUTES: '5' }, () => ({
  gate: createGate(workerRedis),
}));
let db: Db;
let app: FastifyInstance;
beforeAll(async () => {
  ({ db, app } = stack);
  await app.deps.redis.flushdb();
});
afterAll(async () => {
  workerRedis?.disconnect();
  await ownRedis?.kill();
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const placeOrder = (orderId: string, sku: string, quantity = 1, extra: Record<string, unknown> = {}) =>
  app.inject({
    method: 'POST',
    url: '/orders',
    payload: { orderId, userId: 'u1', lines: [{ sku, warehouseCode: 'W1', quantity }], ...extra },
  });
const pay = (orderId: string, paymentId: string, amountCents = 1000, eventId = `ev-${paymentId}`) => {
  const signed = signedPayment(SECRET, { eventId, type: 'payment.succeeded', orderId, paymentId, amountCents });
  return app.inject({ method: 'POST', url: '/webhooks/payments', payload: signed.payload, headers: signed.headers });
};
const handle = (orderId: string) => stack.env.client.workflow.getHandle(orderWorkflowId(orderId));
/** The saga's result; it starts just after the hold commits, so wait for it to exist first. */
const result = async (orderId: string) => {
  await eventually(
    () =>
      handle(orderId)
        .describe()
        .then(
          () => true,
          () => false,
        ),
    (exists) => exists,
  );
  return handle(orderId).result() as Promise<OrderState>;
};
const payments = (orderId: string) => db.payment.findMany({ where: { orderId }, orderBy: { receivedAt: 'asc' } });
const confirmations = (prefix: string) =>
  db.stockMovement.count({ where: { reason: 'CONFIRM', reference: { startsWith: prefix } } });

it('a payment that lands while the gate token goes back (Redis dead) is settled, from the campaign pool', async () => {
  await stock(db, 'GB', 'W1', 10);
  const hour = 3600_000;
  const created = await app.inject({
    method: 'POST',
    url: '/admin/campaigns',
    headers: ADMIN,
    payload: {
      id: 'gb',
      sku: 'GB',
      warehouseCode: 'W1',
      startsAt: new Date(Date.now() - 1000).toISOString(),
      endsAt: new Date(Date.now() + hour).toISOString(),
      quota: 5,
      perUserLimit: 1,
    },
  });
  expect(created.statusCode).toBe(201);
  const placed = await app.inject({
    method: 'POST',
    url: '/campaigns/gb/orders',
    payload: { orderId: 'gb-1', userId: 'shopper', quantity: 1 },
  });
  expect(placed.statusCode).toBe(201);
  await ownRedis.kill(); // the give-back now fails and is retried for seconds
  try {
    // Released, not yet ended: the saga is inside its gate give-back.
    // The saga starts just after the hold commits: until it exists, the query finds nothing.
    const status = () =>
      handle('gb-1')
        .query(statusQuery)
        .catch(() => undefined);
    await eventually(status, (s) => s?.releaseReason === 'EXPIRED', 20_000);
    const delivered = await pay('gb-1', 'p-gb-1');
    expect(delivered.json()).toMatchObject({ result: 'ACCEPTED' });
  } finally {
    await ownRedis.start();
  }
  const state = await result('gb-1');
  expect(state).toMatchObject({ status: 'CONFIRMED', lateConfirmed: true });
  expect(await payments('gb-1')).toMatchObject([
    { paymentId: 'p-gb-1', state: 'CONFIRMED', reservationId: 'gb-1:late' },
  ]);
  const view = (await app.inject({ method: 'GET', url: '/admin/campaigns/gb', headers: ADMIN })).json();
  expect(view).toMatchObject({ sold: 1, lateConfirmed: 1, paymentsToRefund: 0, remaining: 4 });
});

it('a payment after a refused reserve is settled REFUND_REQUIRED, never left pending', async () => {
  await stock(db, 'REFUSED', 'W1', 1);
  expect((await placeOrder('refused-1', 'REFUSED', 5)).json()).toMatchObject({ code: 'INSUFFICIENT_STOCK' });
  // Refused on the request path: no saga is started; PostgreSQL answers for the order.
  await expect(handle('refused-1').describe()).rejects.toThrow();
  expect((await app.inject({ method: 'GET', url: '/orders/refused-1' })).json()).toMatchObject({
    status: 'REJECTED',
    shortages: [{ sku: 'REFUSED', requested: 5 }],
  });
  expect((await pay('refused-1', 'p-refused')).json()).toMatchObject({ result: 'ACCEPTED' });
  const [p] = await eventually(
    () => payments('refused-1'),
    (rows) => rows[0]?.state !== 'PENDING',
  );
  expect(p).toMatchObject({ state: 'REFUND_REQUIRED' });
  expect(p.reason).toMatch(/refused/);
  expect(await level(db, 'REFUSED', 'W1')).toEqual({ onHand: 1, reserved: 0 });
});

it('a wrong amount is stored AMOUNT_MISMATCH and not confirmed; the right one confirms; another is a DUPLICATE_CHARGE', async () => {
  await stock(db, 'AMT', 'W1', 5);
  expect((await placeOrder('amt-1', 'AMT', 2, { amountCents: 1000 })).statusCode).toBe(201);
  expect((await pay('amt-1', 'p-wrong', 999)).statusCode).toBe(200);
  await eventually(
    () => payments('amt-1'),
    (rows) => rows[0]?.state === 'AMOUNT_MISMATCH',
  );
  expect((await handle('amt-1').query(statusQuery)).status).toBe('AWAITING_PAYMENT');
  expect(await level(db, 'AMT', 'W1')).toEqual({ onHand: 5, reserved: 2 });

  await pay('amt-1', 'p-right', 1000);
  expect((await result('amt-1')).status).toBe('CONFIRMED');
  expect((await pay('amt-1', 'p-twice', 1000)).json()).toMatchObject({ result: 'ACCEPTED' });
  await eventually(
    () => payments('amt-1'),
    (rows) => rows.every((r) => r.state !== 'PENDING') && rows.length === 3,
  );
  const order = (await app.inject({ method: 'GET', url: '/orders/amt-1' })).json();
  expect(order.payments.map((p: { paymentId: string; state: string }) => [p.paymentId, p.state])).toEqual([
    ['p-wrong', 'AMOUNT_MISMATCH'],
    ['p-right', 'CONFIRMED'],
    ['p-twice', 'DUPLICATE_CHARGE'],
  ]);
  expect(await level(db, 'AMT', 'W1')).toEqual({ onHand: 3, reserved: 0 });
  expect(await confirmations('amt-1')).toBe(1);
  const settled = (await stack.worker.metrics.paymentsSettled.get()).values;
  for (const state of ['AMOUNT_MISMATCH', 'CONFIRMED', 'DUPLICATE_CHARGE']) {
    expect(settled.find((v) => v.labels.state === state)?.value ?? 0).toBeGreaterThan(0);
  }
});

it('after retention deleted the saga, a late payment for a known order is still settled (PostgreSQL decides)', async () => {
  await stock(db, 'GONE', 'W1', 5);
  expect((await placeOrder('gone-1', 'GONE')).statusCode).toBe(201);
  expect((await result('gone-1')).status).toBe('RELEASED');
  await stack.env.client.workflowService.deleteWorkflowExecution({
    namespace: 'default',
    workflowExecution: { workflowId: orderWorkflowId('gone-1') },
  });
  // The dev server deletes asynchronously (a system workflow): wait until it is really gone.
  await eventually(
    () =>
      handle('gone-1')
        .describe()
        .then(
          () => 'present',
          () => 'gone',
        ),
    (s) => s === 'gone',
    90_000,
  );
  expect((await pay('gone-1', 'p-gone')).json()).toMatchObject({ result: 'ACCEPTED' });
  await eventually(
    () => payments('gone-1'),
    (rows) => rows[0]?.state === 'CONFIRMED',
  );
  expect(await level(db, 'GONE', 'W1')).toEqual({ onHand: 4, reserved: 0 });
  // An order neither Temporal nor PostgreSQL knows: the signed payment is kept, never deleted
  // (settled REFUND_REQUIRED after its grace: test/workflows/payment-delivery.test.ts).
  expect((await pay('never-placed', 'p-never')).json()).toMatchObject({ result: 'ACCEPTED' });
  expect(await db.payment.count({ where: { orderId: 'never-placed', state: 'PENDING' } })).toBe(1);
});

it('the backstop: a payment left PENDING is reported by reconciliation, alerted, and driven to settlement', async () => {
  await stock(db, 'SLIP', 'W1', 5);
  expect((await placeOrder('slip-1', 'SLIP')).statusCode).toBe(201);
  expect((await result('slip-1')).status).toBe('RELEASED');
  // A webhook that stored the payment and died before delivering it, ten minutes ago.
  await db.payment.create({
    data: {
      orderId: 'slip-1',
      paymentId: 'p-slip',
      eventId: 'ev-slip',
      amountCents: 1000,
      receivedAt: new Date(Date.now() - 600_000),
    },
  });
  const report = (await app.inject({ method: 'POST', url: '/admin/reconciliation', headers: ADMIN })).json();
  expect(report).toMatchObject({
    clean: false,
    drifts: [],
    unsettledPayments: [{ orderId: 'slip-1', paymentId: 'p-slip', action: 'LATE_SETTLEMENT' }],
  });
  expect(await db.stockAlert.count({ where: { kind: 'PAYMENT_UNSETTLED', subject: 'slip-1/p-slip' } })).toBe(1);
  expect((await app.deps.metrics.paymentsUnsettled.get()).values[0].value).toBe(1);
  await eventually(
    () => payments('slip-1'),
    (rows) => rows[0]?.state === 'CONFIRMED',
  );
  expect(await level(db, 'SLIP', 'W1')).toEqual({ onHand: 4, reserved: 0 });
  const again = (await app.inject({ method: 'POST', url: '/admin/reconciliation', headers: ADMIN })).json();
  expect(again).toMatchObject({ clean: true, unsettledPayments: [] });
  // The scheduled check (same code) finds nothing left and says so.
  const check = await stack.env.client.workflow.execute('paymentCheckWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: 'payment-check-test',
    args: [5],
  });
  expect(check).toEqual({ unsettled: 0 });
});

it('two concurrent first deliveries of one event id with different content: one wins, the other gets 409', async () => {
  await stock(db, 'RACE', 'W1', 5);
  expect((await placeOrder('race-1', 'RACE')).statusCode).toBe(201);
  const answers = await Promise.all([pay('race-1', 'p-a', 1000, 'ev-race'), pay('race-1', 'p-b', 1000, 'ev-race')]);
  expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 409]);
  expect((await result('race-1')).status).toBe('CONFIRMED');
  expect(await db.payment.count({ where: { orderId: 'race-1' } })).toBe(1);
  expect(await confirmations('race-1')).toBe(1);
});

describe('what a 503 means, and the reserve deadline of a saga that reserves by itself', () => {
  async function lockLevel(sku: string): Promise<Client> {
    const locker = new Client({ connectionString: TEST_DATABASE_URL });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query(`SELECT * FROM inventory_levels WHERE sku = $1 FOR UPDATE`, [sku]);
    return locker;
  }

  it('a hold blocked past lock_timeout answers 503 and holds nothing; the same orderId again gets the real outcome', async () => {
    await stock(db, 'SLOW', 'W1', 5);
    const locker = await lockLevel('SLOW');
    try {
      const first = await placeOrder('slow-1', 'SLOW');
      expect([first.statusCode, first.json().code]).toEqual([503, 'SERVICE_UNAVAILABLE']);
      expect(await db.reservation.count({ where: { id: 'slow-1' } })).toBe(0);
      expect(await db.sagaStart.count({ where: { orderId: 'slow-1' } })).toBe(0);
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }
    expect(await level(db, 'SLOW', 'W1')).toEqual({ onHand: 5, reserved: 0 });
    const again = await placeOrder('slow-1', 'SLOW');
    expect(again.statusCode).toBe(201);
    expect(await level(db, 'SLOW', 'W1')).toEqual({ onHand: 5, reserved: 1 });
    // Cancelled at once: a saga whose start is still on its way is started with the cancel.
    expect((await app.inject({ method: 'POST', url: '/orders/slow-1/cancel' })).statusCode).toBe(202);
    expect((await result('slow-1')).status).toBe('RELEASED');
  });

  it('a saga whose own reserve cannot finish gives up at its deadline, compensates, settles a payment, keeps its history short', async () => {
    await stock(db, 'STUCK', 'W1', 5);
    const locker = await lockLevel('STUCK');
    const order = { orderId: 'stuck-1', userId: 'u1', lines: [{ sku: 'STUCK', warehouseCode: 'W1', quantity: 1 }] };
    try {
      await expect(
        sagaReserves(stack.env.client, order, {
          taskQueue: TASK_QUEUE,
          ttlSeconds: 60,
          reserveDeadlineSeconds: 6,
          answerDeadlineMs: 2000,
        }),
      ).rejects.toThrow(/SERVICE_UNAVAILABLE/);
      const state = await result('stuck-1'); // the row stays locked past the 6 s deadline
      expect(state).toMatchObject({
        status: 'REJECTED',
        releaseReason: 'RESERVE_FAILED',
        reservation: { status: 'rejected', reason: 'RESERVE_FAILED' },
      });
      // Asked again, the order answers its outcome, not "try again" for ever.
      expect(await sagaReserves(stack.env.client, order, { taskQueue: TASK_QUEUE, ttlSeconds: 60 })).toEqual({
        status: 'rejected',
        reason: 'RESERVE_FAILED',
      });
      // A payment that arrives after the compensation is settled too.
      expect((await pay('stuck-1', 'p-stuck')).json()).toMatchObject({ result: 'ACCEPTED' });
      await eventually(
        () => payments('stuck-1'),
        (rows) => rows[0]?.state === 'REFUND_REQUIRED',
      );
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }
    // The compensating release was recorded first, so the reserve can never take the stock now.
    expect(await db.operationFence.count({ where: { serial: 'stuck-1', operation: 'RELEASE' } })).toBe(1);
    expect(await level(db, 'STUCK', 'W1')).toEqual({ onHand: 5, reserved: 0 });
    const history = await handle('stuck-1').fetchHistory();
    expect(history.events?.length ?? 0).toBeLessThan(60);
  });
});
