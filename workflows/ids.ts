/** Workflow ids derived from business ids: one workflow per order, found again by its id. */
export function orderWorkflowId(orderId: string): string {
  return `order-${orderId}`;
}

/**
 * The order a reservation belongs to: `<orderId>`, or a late payment's re-reserve
 * `<orderId>:late` / `<orderId>:late-stock` (workflows/settle.ts). An order id never holds a
 * colon (api/schemas.ts `Id`), so the part before the first one is the order's.
 */
export function orderIdOfReservation(reservationId: string): string {
  return reservationId.split(':')[0];
}

/** Settlement of one late payment: a redelivered payment finds the same workflow. */
export function latePaymentWorkflowId(orderId: string, paymentId: string): string {
  return `payment-${orderId}-${paymentId}`;
}

/** One workflow per transfer. */
export function transferWorkflowId(transferId: string): string {
  return `transfer-${transferId}`;
}

export const SWEEPER_SCHEDULE_ID = 'stockhold-expired-hold-sweeper';
export const EXPIRY_SCHEDULE_ID = 'stockhold-expiry-check';
export const RECONCILIATION_SCHEDULE_ID = 'stockhold-reconciliation';
export const PAYMENT_CHECK_SCHEDULE_ID = 'stockhold-payment-check';

/** One lifecycle workflow per campaign. */
export function campaignWorkflowId(campaignId: string): string {
  return `campaign-${campaignId}`;
}

/** The one fulfilment of a pre-sale. */
export function fulfilmentWorkflowId(campaignId: string): string {
  return `pre-sale-fulfilment-${campaignId}`;
}

export const CACHE_CHECK_SCHEDULE_ID = 'stockhold-cache-consistency-check';
