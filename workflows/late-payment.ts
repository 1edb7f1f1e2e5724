/**
 * Settles a payment whose order workflow is not running (ended, or its history deleted by
 * retention): started by the webhook, or by the unsettled-payment backstop, with the id
 * `payment-<orderId>-<paymentId>`, so a redelivered payment joins the same settlement.
 * The order is read from PostgreSQL, never from Temporal.
 */
import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import { PaymentState, type Settlement } from '../domain/payments';
import { ReservationStatus } from '../domain/types';
import { lookupReservation, metrics, recordSettlement } from './activities-proxy';
import { OrderStatus, wasCancelled, type LatePaymentInput } from '../domain/order-saga';
import { OrderSkusAttr, ReservationStatusAttr } from './search-attributes';
import { settleOrderPayment } from './settle';

/** Patch ids of the late-payment workflow (CONTRIBUTING "Changing workflow code"). */
export const LatePaymentPatch = {
  /** ReservationStatus ends as the order's status (OrderStatus), not as the payment's state. */
  ORDER_STATUS_ATTRIBUTE: 'late-payment-order-status-attribute',
} as const;

/**
 * The order's status once a late payment is settled, as GET /orders/:id reads it
 * (data/orders/order-view.ts withLateSettlements): one meaning of ReservationStatus on the
 * saga and on this workflow. A refunded payment leaves an order that was sold (or waits as a
 * paid pre-order) as it was; otherwise nothing was sold for the order: REFUND_REQUIRED.
 */
export function orderStatusAfter(held: ReservationStatus | undefined, settled: PaymentState): OrderStatus {
  if (settled === PaymentState.CONFIRMED) return OrderStatus.CONFIRMED;
  if (settled === PaymentState.BACKORDERED) return OrderStatus.BACKORDERED;
  // A refund state (REFUND_REQUIRED, DUPLICATE_CHARGE, AMOUNT_MISMATCH).
  if (held === ReservationStatus.CONFIRMED) return OrderStatus.CONFIRMED;
  if (held === ReservationStatus.BACKORDERED) return OrderStatus.BACKORDERED;
  return OrderStatus.REFUND_REQUIRED;
}

export async function latePaymentWorkflow({ orderId, payment, ttlSeconds }: LatePaymentInput): Promise<Settlement> {
  upsertSearchAttributes([{ key: ReservationStatusAttr, value: 'SETTLING_LATE_PAYMENT' }]);
  const original = await lookupReservation(orderId);
  if (original) upsertSearchAttributes([{ key: OrderSkusAttr, value: [...new Set(original.lines.map((l) => l.sku))] }]);
  const order = {
    orderId,
    userId: original?.userId ?? '',
    lines: original?.lines ?? [],
    campaignId: original?.campaignId ?? undefined,
    amountCents: original?.amountCents ?? undefined,
  };
  const outcome = await settleOrderPayment(order, payment, {
    ttlSeconds,
    refusedBecause: original ? undefined : 'the order never held stock',
    cancelled: original?.status === 'RELEASED' && wasCancelled(original.releaseReason),
  });
  await recordSettlement(orderId, payment.paymentId, outcome.state);
  // Histories from before the patch carried the payment's state here.
  const status = patched(LatePaymentPatch.ORDER_STATUS_ATTRIBUTE)
    ? orderStatusAfter(original?.status, outcome.state)
    : outcome.state;
  upsertSearchAttributes([{ key: ReservationStatusAttr, value: status }]);
  metrics.sagaEnded(outcome.state);
  return outcome;
}
