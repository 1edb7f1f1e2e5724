/**
 * The payment provider's word on a payment's life beyond its success (issue 19 item 6), each
 * stored as a fact and deduplicated by event id like `payment.succeeded`:
 * - `payment.failed`: recorded and shown with the order; the hold stays (the shopper may retry
 *   with another card).
 * - `payment.canceled`: the provider closed the payment for good, so the hold is released at
 *   once (reason PAYMENT_CANCELED) — the saga's cancel, with its guarantees: a payment the saga
 *   settled first stands (the sale), one that comes with or after the cancel is refunded; no
 *   payment is left unsettled. Fenced like a cancel (orderId, CANCEL).
 * - `payment.refunded`: a payment owed back is closed REFUNDED; on a sale it is recorded only.
 */
import type { Client } from '@temporalio/client';
import type { Db } from '../data/db';
import { recordCancel } from '../data/orders/order-view';
import {
  answerPaymentEvent,
  claimPaymentEvent,
  recordFailedPayment,
  recordRefund,
  type EventClaim,
} from '../data/payments/payment-events';
import { PaymentEventType, type OrderPayment } from '../domain/payments';
import { cancelSignal, PAYMENT_CANCELED } from '../workflows/messages';
import { signalOrderSaga } from './order-sagas';

/** What handling these events needs. */
export interface PaymentEventDeps {
  readonly db: Db;
  readonly temporal: Client;
  readonly taskQueue: string;
}

/** The event's outcome: its answer (first or now), or a conflict. */
export type PaymentEventOutcome = EventClaim | { readonly kind: 'answered'; readonly answer: string };

/** The types handled here. */
export type LifecycleEventType =
  typeof PaymentEventType.FAILED | typeof PaymentEventType.CANCELED | typeof PaymentEventType.REFUNDED;

export async function receivePaymentEvent(
  deps: PaymentEventDeps,
  type: LifecycleEventType,
  payment: OrderPayment,
): Promise<PaymentEventOutcome> {
  switch (type) {
    case PaymentEventType.FAILED:
      return recordFailedPayment(deps.db, payment, type);
    case PaymentEventType.REFUNDED:
      return recordRefund(deps.db, payment, type);
    case PaymentEventType.CANCELED:
      return paymentCanceled(deps, payment);
  }
}

/**
 * Stored first (answer open), then the saga is told to release (started with the signal if its
 * start is on its way), then the cancel's fence and the answer: RELEASING, or ENDED when the
 * order's saga has ended (its hold already went back, or was sold). A failure half-way leaves
 * the answer open: the provider's retry does it again, and a second signal changes nothing.
 */
async function paymentCanceled(deps: PaymentEventDeps, p: OrderPayment): Promise<PaymentEventOutcome> {
  const claim = await claimPaymentEvent(deps.db, p, PaymentEventType.CANCELED);
  if (claim.kind !== 'new') return claim;
  const told = await signalOrderSaga(deps.temporal, deps.db, deps.taskQueue, p.orderId, cancelSignal, [
    { reason: PAYMENT_CANCELED },
  ]);
  if (told === 'signalled')
    await recordCancel(deps.db, {
      orderId: p.orderId,
      status: 'CANCELLING',
      reason: PAYMENT_CANCELED,
      requestedAt: new Date().toISOString(),
    });
  const answer = told === 'signalled' ? 'RELEASING' : 'ENDED';
  await answerPaymentEvent(deps.db, p.eventId, answer);
  return { kind: 'answered', answer };
}
