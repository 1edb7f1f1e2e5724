/**
 * Issue 19 item 1: a hold still waiting for its payment is extended — by POST
 * /orders/:id/extend or a payment.pending webhook — when PostgreSQL still holds it unexpired,
 * within the caps, once per extension id; the saga's timer and search attribute follow.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../data/db';
import { extendHold } from '../../data/orders/extend';
import type { OrderState } from '../../domain/order-saga';
import { orderWorkflowId } from '../../workflows/ids';
import { eventually, signedPayment, useAppStack } from '../helpers/app';
import { invariantViolations, level, stock } from '../helpers/db';

const SECRET = 'test-webhook-secret';
const stack = useAppStack('dev', 'hold-extension-test', {
  RESERVATION_TTL_SECONDS: '2',
  HOLD_EXTENSION_MAX_SECONDS: '5',
  HOLD_EXTENSION_MAX_TOTAL_SECONDS: '6',
  HOLD_EXTENSION_MAX_COUNT: '2',
  PAYMENT_PENDING_EXTENSION_SECONDS: '3',
});
let db: Db;
let app: FastifyInstance;

beforeAll(async () => {
  ({ db, app } = stack);
  await stock(db, 'FIG', 'W1', 100);
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const sleepUntil = (at: number) => new Promise((r) => setTimeout(r, Math.max(0, at - Date.now())));
async function place(orderId: string): Promise<number> {
  const res = await app.inject({
    method: 'POST',
    url: '/orders',
    payload: { orderId, userId: 'u-ext', lines: [{ sku: 'FIG', warehouseCode: 'W1', quantity: 1 }] },
  });
  expect(res.statusCode).toBe(201);
  return Date.parse(res.json().expiresAt);
}
const extend = (orderId: string, extensionId: string, seconds: number) =>
  app.inject({
    method: 'POST',
    url: `/orders/${orderId}/extend`,
    payload: { extensionId, seconds, reason: '3-D Secure challenge' },
  });
const webhook = (orderId: string, type: string, n = 1) => {
  const signed = signedPayment(SECRET, {
    eventId: `ev-${type}-${orderId}-${n}`,
    type,
    orderId,
    paymentId: `pay-${orderId}`,
    amountCents: 700,
  });
  return app.inject({ method: 'POST', url: '/webhooks/payments', payload: signed.payload, headers: signed.headers });
};
const saga = (orderId: string) => stack.env.client.workflow.getHandle(orderWorkflowId(orderId));
const sagaResult = async (orderId: string): Promise<OrderState> => {
  await eventually(
    () =>
      saga(orderId)
        .describe()
        .then(
          () => true,
          () => false,
        ),
    (exists) => exists,
    10_000,
  );
  return saga(orderId).result();
};
const hold = (orderId: string) => db.reservation.findUniqueOrThrow({ where: { id: orderId } });

it('extended at T−1 s: still held at the original expiry, released (EXPIRED) at the new one; the saga and its search attribute follow', async () => {
  const expiresAt = await place('ext-late');
  await sleepUntil(expiresAt - 1000);
  const res = await extend('ext-late', 'x1', 3);
  expect(res.statusCode).toBe(200);
  const extendedTo = expiresAt + 3000;
  expect(res.json()).toEqual({
    orderId: 'ext-late',
    extensionId: 'x1',
    status: 'EXTENDED',
    expiresAt: new Date(extendedTo).toISOString(),
    extensionCount: 1,
    extendedSeconds: 3,
  });
  // Past the original expiry: PostgreSQL and the saga still hold it.
  await sleepUntil(expiresAt + 800);
  expect((await hold('ext-late')).status).toBe('RESERVED');
  const waiting = (await app.inject({ method: 'GET', url: '/orders/ext-late' })).json();
  expect(waiting).toMatchObject({ status: 'AWAITING_PAYMENT', expiresAt: new Date(extendedTo).toISOString() });
  const attrs = (await saga('ext-late').describe()).typedSearchAttributes;
  expect(attrs.getAll().find((p) => p.key.name === 'ReservationExpiresAt')?.value).toEqual(new Date(extendedTo));
  // Released at the new expiry, by the saga.
  const ended = await sagaResult('ext-late');
  expect(ended).toMatchObject({ status: 'RELEASED', releaseReason: 'EXPIRED' });
  expect(Date.parse(ended.releasedAt!)).toBeGreaterThanOrEqual(extendedTo);
  expect(await hold('ext-late')).toMatchObject({ status: 'RELEASED', releaseReason: 'EXPIRED' });
});

it('extended after its expiry: 409 HOLD_EXPIRED (PostgreSQL decides), and the hold is released', async () => {
  const expiresAt = await place('ext-expired');
  const before = await level(db, 'FIG', 'W1');
  await sleepUntil(expiresAt + 300);
  const res = await extend('ext-expired', 'x1', 3);
  expect(res.statusCode).toBe(409);
  expect(res.json()).toMatchObject({ code: 'HOLD_EXPIRED' });
  expect(await sagaResult('ext-expired')).toMatchObject({ status: 'RELEASED', releaseReason: 'EXPIRED' });
  expect((await hold('ext-expired')).expiresAt.getTime()).toBe(expiresAt);
  expect((await level(db, 'FIG', 'W1')).reserved).toBe(before.reserved - 1);
});

it('payment.pending extends the hold; payment.succeeded after the original TTL → CONFIRMED on its own hold, no late settlement', async () => {
  const expiresAt = await place('ext-3ds');
  const pending = await webhook('ext-3ds', 'payment.pending');
  expect(pending.statusCode).toBe(200);
  expect(pending.json()).toEqual({
    eventId: 'ev-payment.pending-ext-3ds-1',
    orderId: 'ext-3ds',
    result: 'EXTENDED',
    expiresAt: new Date(expiresAt + 3000).toISOString(),
  });
  // The same event again: its first answer, no second extension.
  expect((await webhook('ext-3ds', 'payment.pending')).json()).toMatchObject({ result: 'EXTENDED' });
  expect((await hold('ext-3ds')).extensionCount).toBe(1);
  await sleepUntil(expiresAt + 600);
  expect((await webhook('ext-3ds', 'payment.succeeded')).json()).toMatchObject({ result: 'ACCEPTED' });
  const ended = await sagaResult('ext-3ds');
  expect(ended).toMatchObject({ status: 'CONFIRMED', payments: [expect.objectContaining({ state: 'CONFIRMED' })] });
  expect(ended.lateConfirmed).toBeUndefined();
  const view = (await app.inject({ method: 'GET', url: '/orders/ext-3ds' })).json();
  expect(view).toMatchObject({
    status: 'CONFIRMED',
    latePayments: [],
    payments: [expect.objectContaining({ state: 'CONFIRMED', reservationId: 'ext-3ds' })],
  });
});

it('caps hold: seconds per extension, seconds in all, number of extensions', async () => {
  await place('ext-caps');
  const refused = async (id: string, seconds: number) => {
    const res = await extend('ext-caps', id, seconds);
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'EXTENSION_LIMIT_REACHED' });
  };
  await refused('too-long', 6); // HOLD_EXTENSION_MAX_SECONDS 5
  expect((await extend('ext-caps', 'a', 4)).statusCode).toBe(200);
  await refused('past-total', 3); // 4 + 3 > HOLD_EXTENSION_MAX_TOTAL_SECONDS 6
  expect((await extend('ext-caps', 'b', 2)).statusCode).toBe(200);
  await refused('third', 1); // HOLD_EXTENSION_MAX_COUNT 2 (and the total)
  expect(await hold('ext-caps')).toMatchObject({ extensionCount: 2, extendedSeconds: 6 });
  expect((await app.inject({ method: 'POST', url: '/orders/ext-caps/cancel' })).statusCode).toBe(202);
  expect(await sagaResult('ext-caps')).toMatchObject({ status: 'RELEASED', releaseReason: 'CANCELLED' });
});

it('a repeated extensionId gets the first answer and extends once; with other seconds it is 409 IDEMPOTENCY_CONFLICT', async () => {
  await place('ext-repeat');
  const first = await extend('ext-repeat', 'x1', 3);
  expect(first.statusCode).toBe(200);
  const again = await extend('ext-repeat', 'x1', 3);
  expect(again.statusCode).toBe(200);
  expect(again.json()).toEqual(first.json());
  const other = await extend('ext-repeat', 'x1', 4);
  expect(other.statusCode).toBe(409);
  expect(other.json()).toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
  expect(await hold('ext-repeat')).toMatchObject({ extensionCount: 1, extendedSeconds: 3 });
  expect((await app.inject({ method: 'POST', url: '/orders/ext-repeat/cancel' })).statusCode).toBe(202);
  await sagaResult('ext-repeat');
});

it('an extension the saga never heard of still stands: PostgreSQL refuses the EXPIRED release until the new expiry', async () => {
  const expiresAt = await place('ext-unheard');
  // Granted in PostgreSQL, no signal sent (as if it was lost with a crash after the commit).
  const caps = { maxSeconds: 5, maxTotalSeconds: 6, maxCount: 2 };
  const { outcome } = await extendHold(
    db,
    { orderId: 'ext-unheard', extensionId: 'x1', seconds: 2, reason: 'lost signal', source: 'API' },
    caps,
  );
  expect(outcome).toMatchObject({ status: 'EXTENDED' });
  await sleepUntil(expiresAt + 800);
  expect((await hold('ext-unheard')).status).toBe('RESERVED');
  const ended = await sagaResult('ext-unheard');
  expect(ended).toMatchObject({
    status: 'RELEASED',
    releaseReason: 'EXPIRED',
    expiresAt: new Date(expiresAt + 2000).toISOString(),
  });
  expect(Date.parse(ended.releasedAt!)).toBeGreaterThanOrEqual(expiresAt + 2000);
});

it('a flash-sale order is not extended unless its campaign allows it (allowHoldExtension)', async () => {
  const campaign = async (id: string, allowHoldExtension?: boolean) => {
    const payload = {
      id,
      sku: 'FIG',
      warehouseCode: 'W1',
      startsAt: new Date(Date.now() - 1000).toISOString(),
      endsAt: new Date(Date.now() + 3600_000).toISOString(),
      quota: 2,
      perUserLimit: 1,
      ...(allowHoldExtension === undefined ? {} : { allowHoldExtension }),
    };
    expect((await app.inject({ method: 'POST', url: '/admin/campaigns', payload })).statusCode).toBe(201);
    const held = await app.inject({
      method: 'POST',
      url: `/campaigns/${id}/orders`,
      payload: { orderId: `${id}-o`, userId: 'u-flash', quantity: 1 },
    });
    expect(held.statusCode).toBe(201);
  };
  await campaign('fair-sale');
  await campaign('lenient-sale', true);
  const refused = await extend('fair-sale-o', 'x1', 3);
  expect(refused.statusCode).toBe(409);
  expect(refused.json()).toMatchObject({ code: 'NOT_EXTENDABLE' });
  expect((await extend('lenient-sale-o', 'x1', 3)).json()).toMatchObject({ status: 'EXTENDED', extensionCount: 1 });
  for (const id of ['fair-sale-o', 'lenient-sale-o']) {
    expect((await app.inject({ method: 'POST', url: `/orders/${id}/cancel` })).statusCode).toBe(202);
    await sagaResult(id);
  }
});
