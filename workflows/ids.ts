/** Workflow ids derived from business ids: one workflow per order, found again by its id. */
export function orderWorkflowId(orderId: string): string {
  return `order-${orderId}`;
}

/** Settlement of one late payment: a redelivered payment finds the same workflow. */
export function latePaymentWorkflowId(orderId: string, paymentId: string): string {
  return `payment-${orderId}-${paymentId}`;
}

export const SWEEPER_SCHEDULE_ID = 'stockhold-expired-hold-sweeper';

export const CACHE_CHECK_SCHEDULE_ID = 'stockhold-cache-consistency-check';
