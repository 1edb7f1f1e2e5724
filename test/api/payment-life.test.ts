/**
 * Issue 19 item 6: a payment's whole life. payment.failed is recorded and shown (the hold
 * stays); payment.canceled releases the hold at once (PAYMENT_CANCELED) and a payment racing
 * it is settled, never lost; payment.refunded closes a payment owed back as REFUNDED.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../data/db';
import type { OrderState } from '../../domain/order-saga';
import { orderWorkflowId } from '../../workflows/ids';
import { eventually, signedPayment, useAppStack } from '../helpers/app';
import { invariantViolations, level, stock } from '../helpers/db';

const SECRET = 'test-webhook-secret';
const stack = useAppStack('dev', 'payment-life-test', { RESERVATION_TTL_SECONDS: '60' });
let db: Db;
let app: FastifyInstance;

beforeAll(async () => {
  ({ db, app } = stack);
  await stock(db, 'PEAR', 'W1', 100);
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

async function place(orderId: string): Promise<void> {
  const res = await app.inject({
    method: 'POST',
    url: '/orders',
    payload: { orderId, userId: 'u-life', lines: [{ sku: 'PEAR', warehouseCode: 'W1', quantity: 1 }] },
  });
  expect(res.statusCode).toBe(201);
}
const webhook = (
  orderId: string,
  type: string,
  paymentId = `pay-${orderId}`,
  eventId = `ev-${type}-${orderId}`,
  extra: Record<string, unknown> = {},
) => {
  const signed = signedPayment(SECRET, { eventId, type, orderId, paymentId, amountCents: 900, ...extra });
  return app.inject({ method: 'POST', url: '/webhooks/payments', payload: signed.payload, headers: signed.headers });
};
const view = async (orderId: string) => (await app.inject({ method: 'GET', url: `/orders/${orderId}` })).json();
const sagaResult = async (orderId: string): Promise<OrderState> => {
  const saga = stack.env.client.workflow.getHandle(orderWorkflowId(orderId));
  await eventually(
    () =>
      saga.describe().then(
        () => true,
        () => false,
      ),
    (exists) => exists,
    10_000,
  );
  return saga.result();
};
const paymentState = async (orderId: string) => (await db.payment.findFirst({ where: { orderId } }))?.state;

it('payment.failed is recorded and shown; the hold stays, and a retry with another card confirms it', async () => {
  await place('life-failed');
  const failed = await webhook('life-failed', 'payment.failed', 'card-1');
  expect(failed.json()).toMatchObject({ result: 'RECORDED' });
  expect((await webhook('life-failed', 'payment.failed', 'card-1')).json()).toMatchObject({ result: 'RECORDED' });
  expect(await view('life-failed')).toMatchObject({
    status: 'AWAITING_PAYMENT',
    paymentEvents: [{ type: 'payment.failed', paymentId: 'card-1', result: 'RECORDED' }],
    payments: [],
  });
  expect((await db.reservation.findUniqueOrThrow({ where: { id: 'life-failed' } })).status).toBe('RESERVED');
  expect(
    (await webhook('life-failed', 'payment.succeeded', 'card-2', 'ev-paid-life-failed', { currency: 'EUR' })).json(),
  ).toMatchObject({
    result: 'ACCEPTED',
  });
  expect(await sagaResult('life-failed')).toMatchObject({ status: 'CONFIRMED' });
  // Payments carry their currency beside amountCents; the same event with another currency is a conflict.
  expect((await view('life-failed')).payments).toEqual([
    expect.objectContaining({ paymentId: 'card-2', amountCents: 900, currency: 'EUR', state: 'CONFIRMED' }),
  ]);
  const otherCurrency = await webhook('life-failed', 'payment.succeeded', 'card-2', 'ev-paid-life-failed', {
    currency: 'USD',
  });
  expect(otherCurrency.statusCode).toBe(409);
});

it('payment.canceled releases the hold at once with reason PAYMENT_CANCELED; a redelivery gets the first answer', async () => {
  await place('life-canceled');
  const before = await level(db, 'PEAR', 'W1');
  const canceled = await webhook('life-canceled', 'payment.canceled');
  expect(canceled.json()).toMatchObject({ result: 'RELEASING' });
  const ended = await sagaResult('life-canceled'); // well before the 60 s TTL
  expect(ended).toMatchObject({ status: 'RELEASED', releaseReason: 'PAYMENT_CANCELED' });
  expect(await db.reservation.findUniqueOrThrow({ where: { id: 'life-canceled' } })).toMatchObject({
    status: 'RELEASED',
    releaseReason: 'PAYMENT_CANCELED',
  });
  expect((await level(db, 'PEAR', 'W1')).reserved).toBe(before.reserved - 1);
  expect((await webhook('life-canceled', 'payment.canceled')).json()).toMatchObject({ result: 'RELEASING' });
});

it('a payment.succeeded racing payment.canceled ends settled — CONFIRMED or REFUND_REQUIRED, never lost', async () => {
  for (const orderId of ['life-race-1', 'life-race-2', 'life-race-3']) {
    await place(orderId);
    const [canceled, paid] = await Promise.all([
      webhook(orderId, 'payment.canceled', `gone-${orderId}`),
      webhook(orderId, 'payment.succeeded'),
    ]);
    expect(canceled.statusCode).toBe(200);
    expect(paid.statusCode).toBe(200);
    await sagaResult(orderId);
    const settled = await eventually(
      () => paymentState(orderId),
      (s) => s !== 'PENDING' && s !== undefined,
      20_000,
    );
    expect(['CONFIRMED', 'REFUND_REQUIRED']).toContain(settled);
    const held = await db.reservation.findUniqueOrThrow({ where: { id: orderId } });
    expect(held.status).toBe(settled === 'CONFIRMED' ? 'CONFIRMED' : 'RELEASED');
  }
});

it('payment.refunded closes a REFUND_REQUIRED payment as REFUNDED; on a confirmed order it is recorded and moves no stock', async () => {
  // Cancelled and paid together: the cancel wins and the payment is owed back.
  await place('life-refund');
  await webhook('life-refund', 'payment.canceled', 'first-card');
  expect((await webhook('life-refund', 'payment.succeeded')).statusCode).toBe(200);
  await eventually(
    () => paymentState('life-refund'),
    (s) => s === 'REFUND_REQUIRED',
    20_000,
  );
  const refunded = await webhook('life-refund', 'payment.refunded');
  expect(refunded.json()).toMatchObject({ result: 'REFUNDED' });
  expect(await paymentState('life-refund')).toBe('REFUNDED');
  expect((await view('life-refund')).payments).toEqual([
    expect.objectContaining({ paymentId: 'pay-life-refund', state: 'REFUNDED' }),
  ]);

  await place('life-sold');
  await webhook('life-sold', 'payment.succeeded');
  expect(await sagaResult('life-sold')).toMatchObject({ status: 'CONFIRMED' });
  const stockBefore = await level(db, 'PEAR', 'W1');
  expect((await webhook('life-sold', 'payment.refunded')).json()).toMatchObject({ result: 'RECORDED' });
  expect(await paymentState('life-sold')).toBe('CONFIRMED');
  expect(await level(db, 'PEAR', 'W1')).toEqual(stockBefore);
});

it('an order may ask for its own hold time within HOLD_SECONDS_MIN..MAX (holdSeconds); outside them 400, nothing held', async () => {
  const order = (orderId: string, holdSeconds: number) =>
    app.inject({
      method: 'POST',
      url: '/orders',
      payload: { orderId, userId: 'u-life', lines: [{ sku: 'PEAR', warehouseCode: 'W1', quantity: 1 }], holdSeconds },
    });
  const before = Date.now();
  const held = await order('life-own-ttl', 90);
  expect(held.statusCode).toBe(201);
  const expiresAt = Date.parse(held.json().expiresAt);
  expect(expiresAt).toBeGreaterThanOrEqual(before + 90_000);
  expect(expiresAt).toBeLessThan(Date.now() + 91_000);
  const tooShort = await order('life-short-ttl', 5);
  expect(tooShort.statusCode).toBe(400);
  expect(tooShort.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
  expect(await db.reservation.findUnique({ where: { id: 'life-short-ttl' } })).toBeNull();
  expect((await app.inject({ method: 'POST', url: '/orders/life-own-ttl/cancel' })).statusCode).toBe(202);
  await sagaResult('life-own-ttl');
});
