/**
 * GET /orders/:id tells how an order ended, also when its payment came after the saga had
 * ended and a late-payment workflow settled it; and those settlements are found in the
 * Temporal UI by the order's id, like its saga.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../data/db';
import { latePaymentWorkflowId, orderWorkflowId } from '../../workflows/ids';
import { eventually, signedPayment, useAppStack } from '../helpers/app';
import { invariantViolations, level, stock } from '../helpers/db';

const SECRET = 'test-webhook-secret';
const stack = useAppStack('dev', 'order-story-test', { RESERVATION_TTL_SECONDS: '1' });
let db: Db;
let app: FastifyInstance;

beforeAll(async () => {
  ({ db, app } = stack);
  await stock(db, 'PLUM', 'W1', 10);
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const place = (orderId: string) =>
  app.inject({
    method: 'POST',
    url: '/orders',
    payload: { orderId, userId: 'u-story', lines: [{ sku: 'PLUM', warehouseCode: 'W1', quantity: 2 }] },
  });
const view = async (orderId: string) => (await app.inject({ method: 'GET', url: `/orders/${orderId}` })).json();
const pay = (orderId: string) => {
  const signed = signedPayment(SECRET, {
    eventId: `ev-${orderId}`,
    type: 'payment.succeeded',
    orderId,
    paymentId: `pay-${orderId}`,
    amountCents: 500,
  });
  return app.inject({ method: 'POST', url: '/webhooks/payments', payload: signed.payload, headers: signed.headers });
};
/** Paid once the saga has ended: a late-payment workflow settles it. */
async function payLate(orderId: string) {
  // The saga starts just after the hold commits: until it exists, there is no result to wait for.
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
  await saga.result();
  const res = await pay(orderId);
  expect(res.json()).toMatchObject({ result: 'ACCEPTED' });
  // Delivered after the answer: the saga has ended, so a late-payment settlement starts.
  const late = stack.env.client.workflow.getHandle(latePaymentWorkflowId(orderId, `pay-${orderId}`));
  await eventually(
    () =>
      late.describe().then(
        () => true,
        () => false,
      ),
    (exists) => exists,
    10_000,
  );
  await late.result();
}

it('expired, then paid and re-reserved → CONFIRMED (lateConfirmed), the release still told', async () => {
  expect((await place('story-late')).statusCode).toBe(201);
  await payLate('story-late');
  expect(await view('story-late')).toMatchObject({
    status: 'CONFIRMED',
    lateConfirmed: true,
    releaseReason: 'EXPIRED',
    releasedAt: expect.any(String),
    payment: { paymentId: 'pay-story-late' },
    payments: [expect.objectContaining({ state: 'CONFIRMED', reservationId: 'story-late:late' })],
  });
  expect(await level(db, 'PLUM', 'W1')).toEqual({ onHand: 8, reserved: 0 });
});

it('cancelled, then paid → REFUND_REQUIRED with the reason, nothing sold', async () => {
  expect((await place('story-cancel')).statusCode).toBe(201);
  expect((await app.inject({ method: 'POST', url: '/orders/story-cancel/cancel' })).statusCode).toBe(202);
  await payLate('story-cancel');
  expect(await view('story-cancel')).toMatchObject({
    status: 'REFUND_REQUIRED',
    refundReason: expect.stringContaining('cancelled'),
    releaseReason: 'CANCELLED',
    extraPayments: [{ paymentId: 'pay-story-cancel', amountCents: 500 }],
  });
  expect(await level(db, 'PLUM', 'W1')).toEqual({ onHand: 8, reserved: 0 });
});

it('the late settlement is found by OrderId (and OrderSkus) in Temporal visibility, beside the saga', async () => {
  const listed = async (query: string) => {
    const ids: string[] = [];
    for await (const w of stack.env.client.workflow.list({ query })) ids.push(w.workflowId);
    return ids.sort();
  };
  const both = [latePaymentWorkflowId('story-late', 'pay-story-late'), orderWorkflowId('story-late')].sort();
  expect(
    await eventually(
      () => listed('OrderId = "story-late"'),
      (ids) => ids.length === 2,
    ),
  ).toEqual(both);
  expect(
    await eventually(
      () => listed('OrderSkus = "PLUM" AND OrderId = "story-late"'),
      (ids) => ids.length === 2,
    ),
  ).toEqual(both);
});

describe('ReservationStatus in Temporal means what GET /orders/:id says (issue 17)', () => {
  /** The late-payment workflow's ReservationStatus once it has settled, and the saga's. */
  async function attributes(orderId: string, paymentId: string): Promise<{ late: unknown; saga: unknown }> {
    const read = async (workflowId: string) =>
      (await stack.env.client.workflow.getHandle(workflowId).describe()).searchAttributes.ReservationStatus?.[0];
    return { late: await read(latePaymentWorkflowId(orderId, paymentId)), saga: await read(orderWorkflowId(orderId)) };
  }
  const payAgain = async (orderId: string, paymentId: string, amountCents: number) => {
    const signed = signedPayment(SECRET, {
      eventId: `ev-${paymentId}`,
      type: 'payment.succeeded',
      orderId,
      paymentId,
      amountCents,
    });
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/payments',
      payload: signed.payload,
      headers: signed.headers,
    });
    expect(res.json()).toMatchObject({ result: 'ACCEPTED' });
    // The saga has ended: the delivery after the answer starts the late-payment settlement.
    const late = stack.env.client.workflow.getHandle(latePaymentWorkflowId(orderId, paymentId));
    await eventually(
      () =>
        late.describe().then(
          () => true,
          () => false,
        ),
      (exists) => exists,
      10_000,
    );
    await late.result();
  };

  it('paid twice, the second after the saga ended: the order reads CONFIRMED, and so does the settlement (not DUPLICATE_CHARGE)', async () => {
    expect((await place('story-twice')).statusCode).toBe(201);
    expect((await pay('story-twice')).json()).toMatchObject({ result: 'ACCEPTED' });
    await stack.env.client.workflow.getHandle(orderWorkflowId('story-twice')).result();
    await payAgain('story-twice', 'pay-story-twice-2', 500);
    const order = await view('story-twice');
    expect(order).toMatchObject({
      status: 'CONFIRMED',
      payments: expect.arrayContaining([
        expect.objectContaining({ paymentId: 'pay-story-twice-2', state: 'DUPLICATE_CHARGE' }),
      ]),
    });
    expect(await attributes('story-twice', 'pay-story-twice-2')).toEqual({ late: 'CONFIRMED', saga: 'CONFIRMED' });
  });

  it('expired, then paid the wrong amount: the order reads REFUND_REQUIRED, and so does the settlement (not AMOUNT_MISMATCH)', async () => {
    const placed = await app.inject({
      method: 'POST',
      url: '/orders',
      payload: {
        orderId: 'story-amount',
        userId: 'u-story',
        amountCents: 500,
        lines: [{ sku: 'PLUM', warehouseCode: 'W1', quantity: 1 }],
      },
    });
    expect(placed.statusCode).toBe(201);
    const saga = stack.env.client.workflow.getHandle(orderWorkflowId('story-amount'));
    await eventually(
      () =>
        saga.describe().then(
          () => true,
          () => false,
        ),
      (exists) => exists,
      10_000,
    );
    await saga.result();
    await payAgain('story-amount', 'pay-story-amount', 499);
    const order = await view('story-amount');
    expect(order).toMatchObject({
      status: 'REFUND_REQUIRED',
      payments: [expect.objectContaining({ state: 'AMOUNT_MISMATCH' })],
    });
    expect(await attributes('story-amount', 'pay-story-amount')).toEqual({ late: 'REFUND_REQUIRED', saga: 'RELEASED' });
  });
});
