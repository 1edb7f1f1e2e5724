/**
 * Delivering a stored payment to the saga that settles it. A running order workflow gets a
 * signal (duplicates are harmless there); one whose start is still on its way is started with
 * it (signal-with-start). Otherwise — the saga ended, or Temporal's
 * retention deleted its history — PostgreSQL decides: a known order gets a late-payment
 * settlement workflow, one per payment; an order PostgreSQL never saw is unknown.
 * `attemptDelivery` is the one step the webhook (after its commit), the delivery relay and the
 * unsettled-payment backstop share: deliver, record it, and settle a payment whose order is
 * still unknown after its grace.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { signalOrderSaga } from './order-sagas';
import { DomainError, ErrorCode } from '../domain/errors';
import type { Payment } from '../domain/types';
import { latePaymentWorkflowId, orderWorkflowId } from '../workflows/ids';
import { paymentSignal } from '../workflows/messages';
import type { latePaymentWorkflow } from '../workflows/late-payment';
import { OrderIdAttr } from '../workflows/search-attributes';
import type { Db } from '../data/db';
import { orderKnown, settleUnknownOrder } from '../data/payments/payments';
import { recordDelivered, type PendingDelivery } from '../data/payments/payment-deliveries';

/** DELIVERED: the live saga has it. LATE_SETTLEMENT: a settlement workflow will decide. */
export type DeliveryResult = 'DELIVERED' | 'LATE_SETTLEMENT';

export interface DeliveryTarget {
  readonly temporal: Client;
  readonly db: Db;
  readonly taskQueue: string;
  readonly ttlSeconds: number;
}

export async function deliverPayment(
  { temporal, db, taskQueue, ttlSeconds }: DeliveryTarget,
  orderId: string,
  payment: Payment,
): Promise<DeliveryResult> {
  if ((await signalOrderSaga(temporal, db, taskQueue, orderId, paymentSignal, [payment])) === 'signalled')
    return 'DELIVERED';
  if (!(await orderKnown(db, orderId))) throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `no order ${orderId}`);
  try {
    await temporal.workflow.start<typeof latePaymentWorkflow>('latePaymentWorkflow', {
      workflowId: latePaymentWorkflowId(orderId, payment.paymentId),
      taskQueue,
      args: [{ orderId, payment, ttlSeconds }],
      // A settlement that completed stands; one that failed or was terminated runs again.
      workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
      typedSearchAttributes: [{ key: OrderIdAttr, value: orderId }],
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return 'LATE_SETTLEMENT';
}

/**
 * What one attempt did: delivered (DELIVERED, LATE_SETTLEMENT), settled a payment whose
 * order stayed unknown (REFUND_REQUIRED), or left it for a later attempt because its order
 * may still be committing (AWAITING_ORDER), or — a re-check — found the saga that has it
 * still running (SAGA_RUNNING: it will settle it, or end and be re-checked). A Temporal or
 * PostgreSQL failure is thrown; the delivery row stays and is attempted again.
 */
export type DeliveryAttempt = DeliveryResult | 'REFUND_REQUIRED' | 'AWAITING_ORDER' | 'SAGA_RUNNING';

/** When an attempt re-checks, and how long an unknown order may take to commit its hold. */
export interface AttemptSettings {
  readonly recheckMs: number;
  readonly unknownOrderGraceSeconds: number;
}

/** One delivery attempt of a stored payment (see DeliveryAttempt). */
export async function attemptDelivery(
  target: DeliveryTarget,
  settings: AttemptSettings,
  d: PendingDelivery,
): Promise<DeliveryAttempt> {
  const payment = { eventId: d.eventId, paymentId: d.paymentId, amountCents: d.amountCents };
  // A signal a running saga accepted is in its history: signalling again only adds load. A
  // saga that ended with the payment PENDING (it completed without handling it) gets it again.
  if (d.deliveredAt && (await sagaRunning(target.temporal, d.orderId))) {
    await recordDelivered(target.db, d, 'DELIVERED', settings.recheckMs);
    return 'SAGA_RUNNING';
  }
  try {
    const result = await deliverPayment(target, d.orderId, payment);
    // Accepted is not settled: the row stays open and is looked at again after the re-check.
    await recordDelivered(target.db, d, result, settings.recheckMs);
    return result;
  } catch (err) {
    if (!(err instanceof DomainError && err.code === ErrorCode.ORDER_NOT_FOUND)) throw err;
  }
  // Money for an order PostgreSQL does not know: kept; its hold may still be committing.
  if (Date.now() - Date.parse(d.receivedAt) < settings.unknownOrderGraceSeconds * 1000) return 'AWAITING_ORDER';
  return (await settleUnknownOrder(target.db, d)) ? 'REFUND_REQUIRED' : 'AWAITING_ORDER';
}

async function sagaRunning(temporal: Client, orderId: string): Promise<boolean> {
  try {
    return (await temporal.workflow.getHandle(orderWorkflowId(orderId)).describe()).status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}
