/**
 * The saga reads its payments from PostgreSQL, where every payment is stored before any signal
 * is sent (issue 16, items 1 and 3), on the time-skipping server with the real activities:
 * - before it decides EXPIRED: a payment received before `expiresAt` is on time, whether or
 *   not its signal came (Temporal may have been down when it landed);
 * - before it ends: a payment of its order left PENDING (a signal handled after the workflow
 *   returned, as in the captured history order-payment-after-release-lost) is settled by it.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Db } from '../../data/stock/db';
import { storePayment } from '../../data/stock/payments';
import type { OrderRequest, Payment } from '../../domain/types';
import { orderWorkflowId } from '../../workflows/ids';
import { paymentSignal, type OrderState } from '../../workflows/messages';
import { invariantViolations, level, stock } from '../helpers/db';
import { placeOrder } from '../helpers/saga-reserve';
import { useSagaStack, type ActivityWrap } from '../helpers/temporal';

const TASK_QUEUE = 'stored-payments-test';
const TTL = 1800;

/** What happens inside the release step, after the hold was given back (per order id). */
const duringRelease = new Map<string, () => Promise<void>>();
const wrap: ActivityWrap = (activities) => ({
  ...activities,
  release: async (reservationId, reason) => {
    const outcome = await activities.release(reservationId, reason);
    await duringRelease.get(reservationId)?.();
    return outcome;
  },
});

const stack = useSagaStack('time-skipping', TASK_QUEUE, undefined, wrap);
let env: TestWorkflowEnvironment;
let db: Db;
beforeAll(() => {
  ({ env, db } = stack);
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const order = (orderId: string, sku: string): OrderRequest => ({ orderId, userId: 'u1', lines: [{ sku, warehouseCode: 'W1', quantity: 1 }] });
const payment = (orderId: string): Payment => ({ eventId: `ev-${orderId}`, paymentId: `pay-${orderId}`, amountCents: 1000 });
const handle = (orderId: string) => env.client.workflow.getHandle(orderWorkflowId(orderId));
const result = (orderId: string) => handle(orderId).result() as Promise<OrderState>;
const stored = (orderId: string) => db.payment.findMany({ where: { orderId } });
const hold = async (orderId: string, sku: string) => {
  await stock(db, sku, 'W1', 5);
  expect((await placeOrder(env.client, order(orderId, sku), { taskQueue: TASK_QUEUE, ttlSeconds: TTL })).status).toBe('reserved');
};

describe('a payment PostgreSQL received before the hold expired is on time (item 3)', () => {
  it('stored with no signal (Temporal could not be told): the saga confirms its own hold at the expiry', async () => {
    await hold('on-time', 'OT');
    await storePayment(db, { ...payment('on-time'), orderId: 'on-time' });
    const state = await result('on-time');
    expect(state).toMatchObject({ status: 'CONFIRMED', payments: [{ paymentId: 'pay-on-time', state: 'CONFIRMED' }] });
    expect(state.lateConfirmed).toBeUndefined();
    expect(await stored('on-time')).toMatchObject([{ state: 'CONFIRMED', reservationId: 'on-time' }]);
    expect(await level(db, 'OT', 'W1')).toEqual({ onHand: 4, reserved: 0 });
  });

  it('received after the expiry: the hold is released first, and the payment settled as late', async () => {
    await hold('too-late', 'TL');
    const h = await db.reservation.findUniqueOrThrow({ where: { id: 'too-late' } });
    const p = payment('too-late');
    await db.$executeRaw`
      INSERT INTO payments (order_id, payment_id, event_id, amount_cents, received_at)
      VALUES ('too-late', ${p.paymentId}, ${p.eventId}, ${p.amountCents}, ${new Date(h.expiresAt.getTime() + 1000)})`;
    const state = await result('too-late');
    // Released at the expiry, then re-reserved for the late payment (stock is there) and sold.
    expect(state).toMatchObject({ status: 'CONFIRMED', lateConfirmed: true, releaseReason: 'EXPIRED' });
    expect(await stored('too-late')).toMatchObject([{ state: 'CONFIRMED', reservationId: 'too-late:late' }]);
  });
});

describe('no saga ends with a payment of its order PENDING (item 1)', () => {
  it('a payment stored while the hold is being released, its signal lost: settled before the saga ends', async () => {
    await hold('lost-signal', 'LS');
    duringRelease.set('lost-signal', async () => {
      await storePayment(db, { ...payment('lost-signal'), orderId: 'lost-signal' });
    });
    const state = await result('lost-signal');
    expect(await stored('lost-signal')).toMatchObject([{ state: 'CONFIRMED', reservationId: 'lost-signal:late' }]);
    expect(state).toMatchObject({ status: 'CONFIRMED', lateConfirmed: true, payments: [{ paymentId: 'pay-lost-signal', state: 'CONFIRMED' }] });
  });

  it('a payment signalled in the same activation as the release result: settled, and only once', async () => {
    await hold('same-activation', 'SA');
    duringRelease.set('same-activation', async () => {
      const p = payment('same-activation');
      await storePayment(db, { ...p, orderId: 'same-activation' });
      await handle('same-activation').signal(paymentSignal, p);
    });
    const state = await result('same-activation');
    expect(await stored('same-activation')).toMatchObject([{ state: 'CONFIRMED', reservationId: 'same-activation:late' }]);
    expect(state.payments).toHaveLength(1);
    expect(state).toMatchObject({ status: 'CONFIRMED', lateConfirmed: true });
    expect(await level(db, 'SA', 'W1')).toEqual({ onHand: 4, reserved: 0 });
  });
});
