/**
 * The saga reads its payments from PostgreSQL, where every payment is stored before any signal
 * is sent (issue 16, items 1 and 3), on the time-skipping server with the real activities:
 * - before it decides EXPIRED: a payment received before `expiresAt` is on time, whether or
 *   not its signal came (Temporal may have been down when it landed);
 * - before it ends: a payment of its order left PENDING (a signal handled after the workflow
 *   returned, as in the captured history order-payment-after-release-lost) is settled by it;
 * - while it waits for a pre-sale's goods (item 2): a lost fulfilment signal cannot wedge it.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createCampaign } from '../../data/campaigns/campaigns';
import type { Db } from '../../data/db';
import { storePayment } from '../../data/payments/payments';
import { fulfilPreSale } from '../../data/campaigns/pre-sales';
import type { OrderRequest, Payment } from '../../domain/types';
import { fulfilmentWorkflowId, orderWorkflowId } from '../../workflows/ids';
import type { OrderState } from '../../domain/order-saga';
import { paymentSignal, statusQuery } from '../../workflows/messages';
import { eventually } from '../helpers/app';
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

const order = (orderId: string, sku: string): OrderRequest => ({
  orderId,
  userId: 'u1',
  lines: [{ sku, warehouseCode: 'W1', quantity: 1 }],
});
const payment = (orderId: string): Payment => ({
  eventId: `ev-${orderId}`,
  paymentId: `pay-${orderId}`,
  amountCents: 1000,
});
const handle = (orderId: string) => env.client.workflow.getHandle(orderWorkflowId(orderId));
const result = (orderId: string) => handle(orderId).result() as Promise<OrderState>;
const stored = (orderId: string) => db.payment.findMany({ where: { orderId } });
const hold = async (orderId: string, sku: string) => {
  await stock(db, sku, 'W1', 5);
  expect((await placeOrder(env.client, order(orderId, sku), { taskQueue: TASK_QUEUE, ttlSeconds: TTL })).status).toBe(
    'reserved',
  );
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
    expect(state).toMatchObject({
      status: 'CONFIRMED',
      lateConfirmed: true,
      payments: [{ paymentId: 'pay-lost-signal', state: 'CONFIRMED' }],
    });
  });

  it('a payment signalled in the same activation as the release result: settled, and only once', async () => {
    await hold('same-activation', 'SA');
    duringRelease.set('same-activation', async () => {
      const p = payment('same-activation');
      await storePayment(db, { ...p, orderId: 'same-activation' });
      await handle('same-activation').signal(paymentSignal, p);
    });
    const state = await result('same-activation');
    expect(await stored('same-activation')).toMatchObject([
      { state: 'CONFIRMED', reservationId: 'same-activation:late' },
    ]);
    expect(state.payments).toHaveLength(1);
    expect(state).toMatchObject({ status: 'CONFIRMED', lateConfirmed: true });
    expect(await level(db, 'SA', 'W1')).toEqual({ onHand: 4, reserved: 0 });
  });
});

describe('a backorder whose signal is lost never wedges its saga (item 2)', () => {
  const preSale = async (id: string, sku: string) => {
    await stock(db, 'ANY', 'W1', 1); // the warehouse
    await db.product.create({ data: { sku, name: sku } });
    const now = Date.now();
    await createCampaign(db, {
      id,
      kind: 'PRE_SALE',
      expectedAt: new Date(now + 14 * 86_400_000).toISOString(),
      sku,
      warehouseCode: 'W1',
      startsAt: new Date(now - 60_000).toISOString(),
      endsAt: new Date(now + 86_400_000).toISOString(),
      quota: 5,
      perUserLimit: 1,
    });
  };
  const preOrder = (orderId: string, sku: string, campaignId: string): OrderRequest => ({
    ...order(orderId, sku),
    campaignId,
  });
  const status = (orderId: string) => handle(orderId).query(statusQuery);

  it('fulfilled with no signal to the saga: it reads PostgreSQL while it waits and ends CONFIRMED', async () => {
    await preSale('ps-quiet', 'PS-QUIET');
    const placed = await placeOrder(env.client, preOrder('quiet', 'PS-QUIET', 'ps-quiet'), {
      taskQueue: TASK_QUEUE,
      ttlSeconds: TTL,
    });
    expect(placed.status).toBe('reserved');
    await storePayment(db, { ...payment('quiet'), orderId: 'quiet' });
    await handle('quiet').signal(paymentSignal, payment('quiet'));
    await eventually(
      () => status('quiet'),
      (s) => s.status === 'BACKORDERED',
    );
    // The goods arrive, but the fulfilment workflow (which signals the saga) never runs.
    expect(await fulfilPreSale(db, 'ps-quiet', 'grn-quiet', 1)).toMatchObject({ allocated: ['quiet'] });
    const state = await result('quiet'); // time skips to the saga's next check of PostgreSQL
    expect(state).toMatchObject({ status: 'CONFIRMED', payments: [{ paymentId: 'pay-quiet', state: 'BACKORDERED' }] });
    expect(await stored('quiet')).toMatchObject([{ state: 'CONFIRMED' }]);
  });

  it('a pre-order paid while its expired hold is released (re-reserved as <orderId>:late) is told by the fulfilment', async () => {
    await preSale('ps-late', 'PS-LATE');
    const placed = await placeOrder(env.client, preOrder('late-pre', 'PS-LATE', 'ps-late'), {
      taskQueue: TASK_QUEUE,
      ttlSeconds: 60,
    });
    expect(placed.status).toBe('reserved');
    duringRelease.set('late-pre', async () => {
      await storePayment(db, { ...payment('late-pre'), orderId: 'late-pre' });
      await handle('late-pre').signal(paymentSignal, payment('late-pre'));
    });
    await env.sleep('61s'); // the hold expires and is released; the payment lands meanwhile
    await eventually(
      () => status('late-pre'),
      (s) => s.status === 'BACKORDERED',
    );
    expect(await stored('late-pre')).toMatchObject([{ state: 'BACKORDERED', reservationId: 'late-pre:late' }]);
    // Started, not awaited: awaiting a result would let the server skip time to the saga's own check.
    const fulfilment = await env.client.workflow.start('preSaleFulfilmentWorkflow', {
      workflowId: fulfilmentWorkflowId('ps-late'),
      taskQueue: TASK_QUEUE,
      args: [{ campaignId: 'ps-late', idempotencyKey: 'grn-late', quantity: 1 }],
    });
    await eventually(
      () => fulfilment.describe(),
      (d) => d.status.name === 'COMPLETED',
    );
    // Told at once: no timer has to fire (time does not skip while this test polls).
    await eventually(
      () => handle('late-pre').describe(),
      (d) => d.status.name === 'COMPLETED',
      15_000,
    );
    expect(await result('late-pre')).toMatchObject({ status: 'CONFIRMED' });
    expect(await stored('late-pre')).toMatchObject([{ state: 'CONFIRMED', reservationId: 'late-pre:late' }]);
  });
});
