/**
 * The order saga on the time-skipping server with the real activities on PostgreSQL:
 * TTLs pass in milliseconds of real time, the stock effects are real.
 */
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Client } from 'pg';
import type { Db } from '../../data/db';
import { deliverPayment } from '../../use-cases/deliver-payment';
import { placeOrder } from '../helpers/saga-reserve';
import type { OrderRequest, Payment } from '../../domain/types';
import { latePaymentWorkflowId, orderWorkflowId } from '../../workflows/ids';
import type { Settlement } from '../../domain/payments';
import type { OrderState } from '../../domain/order-saga';
import { cancelSignal, paymentSignal, placeOrderUpdate, statusQuery } from '../../workflows/messages';
import { eventually } from '../helpers/app';
import { invariantViolations, level, stock } from '../helpers/db';
import { TEST_DATABASE_URL } from '../helpers/env';
import { useSagaStack } from '../helpers/temporal';

const TASK_QUEUE = 'wf-test';
const TTL = 1800; // the production default: 30 minutes, skipped in no time

const stack = useSagaStack('time-skipping', TASK_QUEUE);
let env: TestWorkflowEnvironment;
let db: Db;
beforeAll(() => {
  ({ env, db } = stack);
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

function order(orderId: string, sku: string, quantity = 2): OrderRequest {
  return { orderId, userId: 'u1', lines: [{ sku, warehouseCode: 'W1', quantity }] };
}
const pay = (n: string): Payment => ({ eventId: `ev-${n}`, paymentId: `pay-${n}`, amountCents: 1000 });
const deliver = (orderId: string, p: Payment) =>
  deliverPayment({ temporal: env.client, db, taskQueue: TASK_QUEUE, ttlSeconds: TTL }, orderId, p);
const handle = (orderId: string) => env.client.workflow.getHandle(orderWorkflowId(orderId));
const result = (orderId: string) => handle(orderId).result() as Promise<OrderState>;

it('paid in time → confirmed: on-hand and reserved both drop', async () => {
  await stock(db, 'S1', 'W1', 10);
  const outcome = await placeOrder(env.client, order('paid', 'S1'), { taskQueue: TASK_QUEUE, ttlSeconds: TTL });
  expect(outcome.status).toBe('reserved');
  expect(await level(db, 'S1', 'W1')).toEqual({ onHand: 10, reserved: 2 });
  await handle('paid').signal(paymentSignal, pay('paid'));
  const state = await result('paid');
  expect(state.status).toBe('CONFIRMED');
  expect(await level(db, 'S1', 'W1')).toEqual({ onHand: 8, reserved: 0 });
});

it('never paid → held until the TTL, released exactly then', async () => {
  await stock(db, 'S2', 'W1', 10);
  await placeOrder(env.client, order('unpaid', 'S2'), { taskQueue: TASK_QUEUE, ttlSeconds: TTL });
  await env.sleep((TTL - 5) * 1000);
  expect((await handle('unpaid').query(statusQuery)).status).toBe('AWAITING_PAYMENT');
  expect(await level(db, 'S2', 'W1')).toEqual({ onHand: 10, reserved: 2 });

  const state = await result('unpaid');
  expect(state).toMatchObject({ status: 'RELEASED', releaseReason: 'EXPIRED' });
  // releasedAt is the release transaction's own time (its ledger row's), not workflow time
  // (skipped here by half an hour, so the two could not be confused).
  const ledger = await db.stockMovement.findFirstOrThrow({ where: { reason: 'RELEASE', reference: 'unpaid' } });
  expect(Math.abs(Date.parse(state.releasedAt!) - ledger.createdAt.getTime())).toBeLessThan(1000);
  expect(await level(db, 'S2', 'W1')).toEqual({ onHand: 10, reserved: 0 });
});

it('cancel → released at once', async () => {
  await stock(db, 'S3', 'W1', 10);
  await placeOrder(env.client, order('cancelled', 'S3'), { taskQueue: TASK_QUEUE, ttlSeconds: TTL });
  await handle('cancelled').signal(cancelSignal, { reason: 'changed mind' });
  expect(await result('cancelled')).toMatchObject({ status: 'RELEASED', releaseReason: 'CANCELLED' });
  expect(await level(db, 'S3', 'W1')).toEqual({ onHand: 10, reserved: 0 });
});

describe('a payment for a cancelled order is refunded, never sold', () => {
  it('paid after the saga ended: the late settlement refunds it, nothing is re-reserved', async () => {
    await stock(db, 'C1', 'W1', 10);
    await placeOrder(env.client, order('cancel-then-pay', 'C1'), { taskQueue: TASK_QUEUE, ttlSeconds: TTL });
    await handle('cancel-then-pay').signal(cancelSignal, { reason: 'changed mind' });
    expect((await result('cancel-then-pay')).status).toBe('RELEASED');
    const p = pay('cancel-then-pay');
    expect(await deliver('cancel-then-pay', p)).toBe('LATE_SETTLEMENT');
    const settled = (await env.client.workflow
      .getHandle(latePaymentWorkflowId('cancel-then-pay', p.paymentId))
      .result()) as Settlement;
    expect(settled).toMatchObject({ state: 'REFUND_REQUIRED', reason: expect.stringContaining('cancelled') });
    expect(await level(db, 'C1', 'W1')).toEqual({ onHand: 10, reserved: 0 });
    expect(await db.reservation.count({ where: { orderId: 'cancel-then-pay', id: { not: 'cancel-then-pay' } } })).toBe(
      0,
    );
  });

  it('paid right after the cancel, while the saga runs: the cancel wins, the payment is refunded', async () => {
    await stock(db, 'C2', 'W1', 10);
    await placeOrder(env.client, order('cancel-and-pay', 'C2'), { taskQueue: TASK_QUEUE, ttlSeconds: TTL });
    // The payment lands in the cancel's workflow task or while the hold is being released.
    await handle('cancel-and-pay').signal(cancelSignal, { reason: 'changed mind' });
    await handle('cancel-and-pay').signal(paymentSignal, pay('cancel-and-pay'));
    const state = await result('cancel-and-pay');
    expect(state).toMatchObject({
      status: 'REFUND_REQUIRED',
      releaseReason: 'CANCELLED',
      refundReason: expect.stringContaining('cancelled'),
    });
    expect(state.payments).toEqual([
      expect.objectContaining({ paymentId: 'pay-cancel-and-pay', state: 'REFUND_REQUIRED' }),
    ]);
    expect(await level(db, 'C2', 'W1')).toEqual({ onHand: 10, reserved: 0 });
    expect(
      await db.stockMovement.count({ where: { reason: 'CONFIRM', reference: { startsWith: 'cancel-and-pay' } } }),
    ).toBe(0);
  });
});

it('duplicate payment deliveries → one confirmation; a second payment ends in a refund, never a second sale', async () => {
  await stock(db, 'S4', 'W1', 10);
  await placeOrder(env.client, order('dup', 'S4'), { taskQueue: TASK_QUEUE, ttlSeconds: TTL });
  // As the webhook delivers them: to the live saga while it runs, to a settlement after.
  const deliveries = await Promise.all([1, 2, 3, 4, 5].map(() => deliver('dup', pay('dup'))));
  expect(deliveries).toContain('DELIVERED');
  const other = await deliver('dup', pay('other'));
  const state = await result('dup');
  expect(state.status).toBe('CONFIRMED');
  expect(state.payment?.paymentId).toBe('pay-dup');
  if (other === 'DELIVERED') {
    expect(state.extraPayments.map((p) => p.paymentId)).toEqual(['pay-other']);
  } else {
    const settled = await env.client.workflow.getHandle(latePaymentWorkflowId('dup', 'pay-other')).result();
    expect(settled).toMatchObject({ state: 'DUPLICATE_CHARGE' });
  }
  expect(await level(db, 'S4', 'W1')).toEqual({ onHand: 8, reserved: 0 });
  expect(await db.stockMovement.count({ where: { reference: { startsWith: 'dup' }, reason: 'CONFIRM' } })).toBe(1);
});

it('the same order id placed with other lines: the placeOrder update is refused ORDER_CONFLICT as its failure type, the first hold stands', async () => {
  await stock(db, 'S6', 'W1', 10);
  expect(
    (await placeOrder(env.client, order('conflict', 'S6'), { taskQueue: TASK_QUEUE, ttlSeconds: TTL })).status,
  ).toBe('reserved');
  const refused = await handle('conflict')
    .executeUpdate(placeOrderUpdate, { args: [order('conflict', 'S6', 3)] })
    .catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
  const cause = (refused as WorkflowUpdateFailedError).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect([(cause as ApplicationFailure).type, (cause as ApplicationFailure).nonRetryable]).toEqual([
    'ORDER_CONFLICT',
    true,
  ]);
  expect(await level(db, 'S6', 'W1')).toEqual({ onHand: 10, reserved: 2 });
  await handle('conflict').signal(cancelSignal, { reason: 'test over' });
  expect((await result('conflict')).status).toBe('RELEASED');
});

it('insufficient stock → the saga ends REJECTED and holds nothing', async () => {
  await stock(db, 'S5', 'W1', 1);
  const outcome = await placeOrder(env.client, order('short', 'S5', 3), { taskQueue: TASK_QUEUE, ttlSeconds: TTL });
  expect(outcome).toMatchObject({ status: 'rejected', reason: 'INSUFFICIENT_STOCK' });
  expect((await result('short')).status).toBe('REJECTED');
  expect(await level(db, 'S5', 'W1')).toEqual({ onHand: 1, reserved: 0 });
});

describe('payment after the hold was released', () => {
  async function expireOrder(orderId: string, sku: string): Promise<void> {
    await placeOrder(env.client, order(orderId, sku), { taskQueue: TASK_QUEUE, ttlSeconds: TTL });
    expect((await result(orderId)).status).toBe('RELEASED');
  }
  const settlement = (orderId: string, p: Payment) =>
    env.client.workflow.getHandle(latePaymentWorkflowId(orderId, p.paymentId)).result() as Promise<Settlement>;

  it('stock still there → re-reserved and confirmed (never lost)', async () => {
    await stock(db, 'L1', 'W1', 10);
    await expireOrder('late-ok', 'L1');
    const p = pay('late-ok');
    expect(await deliver('late-ok', p)).toBe('LATE_SETTLEMENT');
    // Redelivery joins the same settlement instead of starting another.
    expect(await deliver('late-ok', p)).toBe('LATE_SETTLEMENT');
    expect(await settlement('late-ok', p)).toEqual({ state: 'CONFIRMED', reservationId: 'late-ok:late' });
    expect(await level(db, 'L1', 'W1')).toEqual({ onHand: 8, reserved: 0 });
    expect(await db.stockMovement.count({ where: { reason: 'CONFIRM', reference: { startsWith: 'late-ok' } } })).toBe(
      1,
    );
  });

  it('stock gone → REFUND_REQUIRED, visible, and nothing deducted', async () => {
    await stock(db, 'L2', 'W1', 2);
    await expireOrder('late-gone', 'L2');
    // Someone else buys the last units meanwhile.
    await placeOrder(env.client, order('thief', 'L2'), { taskQueue: TASK_QUEUE, ttlSeconds: TTL });
    await handle('thief').signal(paymentSignal, pay('thief'));
    expect((await result('thief')).status).toBe('CONFIRMED');

    const p = pay('late-gone');
    await deliver('late-gone', p);
    const outcome = await settlement('late-gone', p);
    expect(outcome.state).toBe('REFUND_REQUIRED');
    expect(await level(db, 'L2', 'W1')).toEqual({ onHand: 0, reserved: 0 });
  });

  it('a payment for an order that was never placed is refused', async () => {
    await expect(deliver('never-placed', pay('x'))).rejects.toMatchObject({ code: 'ORDER_NOT_FOUND' });
  });
});

it('a release blocked by a row lock past lock_timeout is retried until it succeeds (no ghost hold)', async () => {
  await stock(db, 'LOCKED', 'W1', 10);
  await placeOrder(env.client, order('blocked', 'LOCKED'), { taskQueue: TASK_QUEUE, ttlSeconds: TTL });
  const locker = new Client({ connectionString: TEST_DATABASE_URL });
  let unblockedAt = 0;
  await locker.connect();
  try {
    await locker.query('BEGIN');
    await locker.query(`SELECT * FROM inventory_levels WHERE sku = 'LOCKED' FOR UPDATE`);
    const retriesBefore = await retries('release');
    await handle('blocked').signal(cancelSignal, { reason: 'test' });
    // The first attempt waits out lock_timeout and fails; Temporal schedules another.
    await eventually(
      () => retries('release'),
      (n) => n > retriesBefore,
      30_000,
    );
    expect((await handle('blocked').query(statusQuery)).status).toBe('RELEASING');
    unblockedAt = Date.now();
    await locker.query('COMMIT');
  } finally {
    await locker.end();
  }
  const state = await result('blocked');
  expect(state).toMatchObject({ status: 'RELEASED', releaseReason: 'CANCELLED' });
  // When the release happened (after the lock was dropped), not when it started.
  expect(Date.parse(state.releasedAt!)).toBeGreaterThanOrEqual(unblockedAt);
  expect(Date.parse(state.releasedAt!)).toBeLessThanOrEqual(Date.now());
  expect(await level(db, 'LOCKED', 'W1')).toEqual({ onHand: 10, reserved: 0 });
});

async function retries(activity: string): Promise<number> {
  const metric = await stack.worker.metrics.activityRetries.get();
  return metric.values.find((v) => v.labels.activity === activity)?.value ?? 0;
}
