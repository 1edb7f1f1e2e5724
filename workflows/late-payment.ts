/**
 * Settles a payment whose order workflow is not running (ended, or its history deleted by
 * retention): started by the webhook, or by the unsettled-payment backstop, with the id
 * `payment-<orderId>-<paymentId>`, so a redelivered payment joins the same settlement.
 * The order is read from PostgreSQL, never from Temporal.
 */
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { Settlement } from '../domain/payments';
import { lookupReservation, metrics, recordSettlement } from './activities-proxy';
import type { LatePaymentInput } from './messages';
import { OrderSkusAttr, ReservationStatusAttr } from './search-attributes';
import { settleOrderPayment } from './settle';

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
    cancelled: original?.status === 'RELEASED' && original.releaseReason === 'CANCELLED',
  });
  await recordSettlement(orderId, payment.paymentId, outcome.state);
  upsertSearchAttributes([{ key: ReservationStatusAttr, value: outcome.state }]);
  metrics.sagaEnded(outcome.state);
  return outcome;
}
