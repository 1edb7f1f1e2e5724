/**
 * Settles a payment that arrived after its order's workflow had ended. The webhook starts
 * it with the id `payment-<orderId>-<paymentId>`, so a redelivered payment joins the same
 * settlement instead of starting a second one.
 */
import { upsertSearchAttributes } from '@temporalio/workflow';
import { lookupReservation, metrics, recordSettlement } from './activities-proxy';
import type { LatePaymentInput, SettlementOutcome } from './messages';
import { ReservationStatusAttr } from './search-attributes';
import { confirmOrRefund, settleLatePayment } from './settle';

export async function latePaymentWorkflow({ orderId, payment, ttlSeconds }: LatePaymentInput): Promise<SettlementOutcome> {
  upsertSearchAttributes([{ key: ReservationStatusAttr, value: 'SETTLING_LATE_PAYMENT' }]);
  const outcome = await settle(orderId, payment, ttlSeconds);
  await recordSettlement(orderId, payment.paymentId, outcome.status);
  upsertSearchAttributes([{ key: ReservationStatusAttr, value: outcome.status }]);
  metrics.sagaEnded(outcome.status);
  return outcome;
}

async function settle(orderId: string, payment: LatePaymentInput['payment'], ttlSeconds: number): Promise<SettlementOutcome> {
  const original = await lookupReservation(orderId);
  if (!original) return { status: 'REFUND_REQUIRED', reason: 'the order never held stock' };
  if (original.status === 'CONFIRMED' || original.status === 'BACKORDERED') {
    return original.paymentId === payment.paymentId
      ? { status: 'CONFIRMED', reservationId: orderId, late: false }
      : { status: 'REFUND_REQUIRED', reason: `order already paid by ${original.paymentId}` };
  }
  if (original.status === 'RESERVED') {
    // The workflow is gone but the hold survived (e.g. the workflow was terminated).
    const confirmed = await confirmOrRefund(orderId, payment, false);
    if (confirmed.status === 'CONFIRMED') return confirmed;
  }
  return settleLatePayment({ orderId, userId: original.userId, lines: original.lines }, payment, ttlSeconds);
}
