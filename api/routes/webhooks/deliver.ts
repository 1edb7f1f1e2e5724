/**
 * Delivering a payment to its saga. A running order workflow gets a signal (duplicates are
 * harmless there). An ended one gets a late-payment settlement workflow, one per payment.
 */
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { DomainError, ErrorCode } from '../../../domain/errors';
import type { Payment } from '../../../domain/types';
import { latePaymentWorkflowId, orderWorkflowId } from '../../../workflows/ids';
import { paymentSignal } from '../../../workflows/messages';
import type { latePaymentWorkflow } from '../../../workflows/late-payment';

/** DELIVERED: the live saga has it. LATE_SETTLEMENT: a settlement workflow will decide. */
export type DeliveryResult = 'DELIVERED' | 'LATE_SETTLEMENT';

export async function deliverPayment(
  temporal: Client,
  taskQueue: string,
  ttlSeconds: number,
  orderId: string,
  payment: Payment,
): Promise<DeliveryResult> {
  const handle = temporal.workflow.getHandle(orderWorkflowId(orderId));
  try {
    await handle.signal(paymentSignal, payment);
    return 'DELIVERED';
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  // Not running: ended, or never existed.
  try {
    await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `no order ${orderId}`);
    throw err;
  }
  try {
    await temporal.workflow.start<typeof latePaymentWorkflow>('latePaymentWorkflow', {
      workflowId: latePaymentWorkflowId(orderId, payment.paymentId),
      taskQueue,
      args: [{ orderId, payment, ttlSeconds }],
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return 'LATE_SETTLEMENT';
}
