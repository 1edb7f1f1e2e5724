/**
 * Settling a payment that arrived after the order's hold was given back (the incident's
 * "paid but never deducted"). Used by the order workflow when a payment lands while it is
 * releasing, and by the late-payment workflow when the order workflow had already ended.
 *
 * The money is never ignored: the stock is re-reserved under the serial `<orderId>:late`
 * and confirmed at once; if the stock is gone, the outcome is REFUND_REQUIRED, visible in
 * the Temporal UI, in GET /orders/:id and in the metrics.
 */
import type { OrderRequest, Payment } from '../domain/types';
import { confirm, reserve } from './activities-proxy';
import type { SettlementOutcome } from './messages';

export function lateReservationId(orderId: string): string {
  return `${orderId}:late`;
}

export async function settleLatePayment(
  order: Pick<OrderRequest, 'orderId' | 'userId' | 'lines' | 'allocation'>,
  payment: Payment,
  ttlSeconds: number,
): Promise<SettlementOutcome> {
  const reservationId = lateReservationId(order.orderId);
  const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
  const held = await reserve({ ...order, reservationId, expiresAt });
  if (held.status !== 'reserved') {
    return { status: 'REFUND_REQUIRED', reason: `late payment: stock could not be re-reserved (${held.reason})` };
  }
  return confirmOrRefund(reservationId, payment, true);
}

/**
 * Confirms a hold with this payment. The confirm fence keeps the first payment: a second,
 * different payment for the same hold is a double charge and needs a refund.
 */
export async function confirmOrRefund(reservationId: string, payment: Payment, late: boolean): Promise<SettlementOutcome> {
  const done = await confirm(reservationId, payment.paymentId);
  if (done.status === 'confirmed' && done.paymentId === payment.paymentId) {
    return { status: 'CONFIRMED', reservationId, late };
  }
  switch (done.status) {
    case 'confirmed':
      return { status: 'REFUND_REQUIRED', reason: `order already paid by ${done.paymentId}` };
    case 'backordered':
      // A pre-order: the first payment's backorder stands; another payment is a double charge.
      return done.paymentId === payment.paymentId
        ? { status: 'BACKORDERED', reservationId }
        : { status: 'REFUND_REQUIRED', reason: `order already paid by ${done.paymentId}` };
    case 'unfulfillable':
      return { status: 'REFUND_REQUIRED', reason: 'the pre-sale goods received could not cover this order' };
    case 'not_held':
      return { status: 'REFUND_REQUIRED', reason: `hold ${reservationId} is ${done.reservationStatus}` };
  }
}

