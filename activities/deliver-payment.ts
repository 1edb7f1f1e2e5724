/**
 * Delivering a stored payment to the saga that settles it. A running order workflow gets a
 * signal (duplicates are harmless there); one whose start is still on its way is started with
 * it (signal-with-start). Otherwise — the saga ended, or Temporal's
 * retention deleted its history — PostgreSQL decides: a known order gets a late-payment
 * settlement workflow, one per payment; an order PostgreSQL never saw is unknown.
 * Used by the webhook and by the unsettled-payment backstop.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { signalOrderSaga } from '../platform/sagas';
import { DomainError, ErrorCode } from '../domain/errors';
import type { Payment } from '../domain/types';
import { latePaymentWorkflowId } from '../workflows/ids';
import { paymentSignal } from '../workflows/messages';
import type { latePaymentWorkflow } from '../workflows/late-payment';
import { OrderIdAttr } from '../workflows/search-attributes';
import type { Db } from '../data/stock/db';
import { orderKnown } from '../data/stock/payments';

/** DELIVERED: the live saga has it. LATE_SETTLEMENT: a settlement workflow will decide. */
export type DeliveryResult = 'DELIVERED' | 'LATE_SETTLEMENT';

export interface DeliveryTarget {
  readonly temporal: Client;
  readonly db: Db;
  readonly taskQueue: string;
  readonly ttlSeconds: number;
}

export async function deliverPayment({ temporal, db, taskQueue, ttlSeconds }: DeliveryTarget, orderId: string, payment: Payment): Promise<DeliveryResult> {
  if ((await signalOrderSaga(temporal, db, taskQueue, orderId, paymentSignal, [payment])) === 'signalled') return 'DELIVERED';
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
