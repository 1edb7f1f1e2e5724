/**
 * The payment provider's other events (issue 19 item 6): `payment.failed`, `payment.canceled`,
 * `payment.refunded`. Each is stored in `payment_events` with its type and its answer, deduplicated
 * by event id like `payment.succeeded`: a redelivery gets the first answer, the event id seen
 * with other content is a conflict and changes nothing. An event stored without an answer (its
 * handling failed half-way) is taken as new when it comes again.
 */
import { PaymentEventType, PaymentState, refundStates, type OrderPayment } from '../../domain/payments';
import { inKeyLockedTx, type Db, type Tx } from '../db';
import { mariadbOf } from '../mariadb/db';
import {
  answerPaymentEventOnMariadb,
  claimPaymentEventOnMariadb,
  lifecycleEventsOnMariadb,
  recordFailedPaymentOnMariadb,
  recordRefundOnMariadb,
} from '../mariadb/payment-events';
import type { EventClaim, LifecycleEvent } from './payment-types';

export type { EventClaim, LifecycleEvent } from './payment-types';

/** Stores the event (its answer still open) unless its id was seen: then its first answer, or a conflict. */
export async function claimPaymentEvent(db: Db | Tx, p: OrderPayment, type: PaymentEventType): Promise<EventClaim> {
  const maria = mariadbOf(db as Db);
  if (maria) return claimPaymentEventOnMariadb(maria, p, type);
  const inserted = await db.$executeRaw`
    INSERT INTO payment_events (event_id, order_id, payment_id, amount_cents, currency, result, type)
    VALUES (${p.eventId}, ${p.orderId}, ${p.paymentId}, ${p.amountCents}, ${p.currency ?? null}, 'RECEIVED', ${type})
    ON CONFLICT (event_id) DO NOTHING`;
  if (inserted > 0) return { kind: 'new' };
  const [seen] = await db.$queryRaw<
    { order_id: string; payment_id: string; amount_cents: number; type: string; answer: string | null }[]
  >`
    SELECT order_id, payment_id, amount_cents, type, answer FROM payment_events WHERE event_id = ${p.eventId}`;
  const same =
    seen.order_id === p.orderId &&
    seen.payment_id === p.paymentId &&
    seen.amount_cents === p.amountCents &&
    seen.type === type;
  if (!same) return { kind: 'conflict', message: `event ${p.eventId} was delivered with other content` };
  return seen.answer === null ? { kind: 'new' } : { kind: 'duplicate', answer: seen.answer };
}

/** Records the answer an event got (and what it did: `result`), so a redelivery gets it again. */
export async function answerPaymentEvent(db: Db | Tx, eventId: string, answer: string): Promise<void> {
  const maria = mariadbOf(db as Db);
  if (maria) return answerPaymentEventOnMariadb(maria, eventId, answer);
  await db.$executeRaw`UPDATE payment_events SET answer = ${answer}, result = ${answer}, delivered_at = now() WHERE event_id = ${eventId}`;
}

/** A failed attempt (payment.failed): a fact for the order's history; the hold stays. Answer RECORDED. */
export async function recordFailedPayment(
  db: Db,
  p: OrderPayment,
  type: PaymentEventType,
): Promise<EventClaim | { readonly kind: 'answered'; readonly answer: string }> {
  const maria = mariadbOf(db);
  if (maria) return recordFailedPaymentOnMariadb(maria, p, type);
  return inKeyLockedTx(db, p.orderId, async (tx) => {
    const claim = await claimPaymentEvent(tx, p, type);
    if (claim.kind !== 'new') return claim;
    await answerPaymentEvent(tx, p.eventId, 'RECORDED');
    return { kind: 'answered', answer: 'RECORDED' };
  });
}

/**
 * The money went back (payment.refunded). A payment the shop owed back (REFUND_REQUIRED,
 * DUPLICATE_CHARGE, AMOUNT_MISMATCH) is closed REFUNDED: answer REFUNDED. On a payment that made
 * a sale, or one still PENDING, the refund is recorded and nothing moves (a return moves
 * stock, not a refund): RECORDED. NO_PAYMENT when PostgreSQL has no such payment.
 */
export async function recordRefund(
  db: Db,
  p: OrderPayment,
  type: PaymentEventType,
): Promise<EventClaim | { readonly kind: 'answered'; readonly answer: string }> {
  const maria = mariadbOf(db);
  if (maria) return recordRefundOnMariadb(maria, p, type);
  return inKeyLockedTx(db, p.orderId, async (tx) => {
    const claim = await claimPaymentEvent(tx, p, type);
    if (claim.kind !== 'new') return claim;
    const closed = await tx.$executeRaw`
      UPDATE payments SET state = ${PaymentState.REFUNDED}, settled_at = now(),
             reason = COALESCE(reason || '; ', '') || ${`refunded (event ${p.eventId})`}
       WHERE order_id = ${p.orderId} AND payment_id = ${p.paymentId} AND state = ANY(${[...refundStates]}::text[])`;
    const [stored] =
      closed > 0
        ? []
        : await tx.$queryRaw<
            { state: string }[]
          >`SELECT state FROM payments WHERE order_id = ${p.orderId} AND payment_id = ${p.paymentId}`;
    const answer =
      closed > 0 || stored?.state === PaymentState.REFUNDED ? 'REFUNDED' : stored ? 'RECORDED' : 'NO_PAYMENT';
    await answerPaymentEvent(tx, p.eventId, answer);
    return { kind: 'answered', answer };
  });
}

/** The order's payment events other than payments made (pending, failed, canceled, refunded), oldest first: what `GET /orders/:id` shows as `paymentEvents`. */
export async function lifecycleEvents(db: Db, orderId: string): Promise<LifecycleEvent[]> {
  const maria = mariadbOf(db);
  if (maria) return lifecycleEventsOnMariadb(maria, orderId, PaymentEventType.SUCCEEDED);
  const rows = await db.paymentEvent.findMany({
    where: { orderId, NOT: { type: 'payment.succeeded' } },
    orderBy: [{ receivedAt: 'asc' }, { eventId: 'asc' }],
    select: { eventId: true, type: true, paymentId: true, amountCents: true, answer: true, receivedAt: true },
  });
  return rows.map(({ answer, receivedAt, ...r }) => ({
    ...r,
    result: answer ?? 'RECEIVED',
    receivedAt: receivedAt.toISOString(),
  }));
}
