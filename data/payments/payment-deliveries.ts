/**
 * The payment webhook's transaction and the outbox of payment deliveries. The webhook commits
 * the event, the payment and a `payment_deliveries` row together and answers; the delivery
 * (a signal to the order's saga, or a late-payment settlement) happens after the commit. A
 * row stays until the payment is settled in PostgreSQL — a signal accepted by Temporal is not
 * a settlement (a saga that was completing may never handle it) — so the relay re-delivers
 * whatever is still PENDING a little later.
 */
import {
  pendingPaymentAnswer,
  pendingPaymentExtension,
  redeliveredPendingEvent,
  type HoldExtensionCaps,
  type PendingOutcome,
} from '../../domain/hold-extensions';
import { PaymentEventType, type OrderPayment } from '../../domain/payments';
import { inKeyLockedTx, type Db } from '../db';
import { extendHoldTx } from '../orders/extend';
import { mariadbOf } from '../mariadb/db';
import { acceptPendingPaymentOnMariadb } from '../mariadb/extend';
import {
  acceptPaymentOnMariadb,
  leaseDueDeliveriesOnMariadb,
  openDeliveriesOnMariadb,
  recordDeliveredOnMariadb,
} from '../mariadb/payment-deliveries';
import type { AcceptOutcome, LeaseOptions, PaymentAnswer, PendingDelivery } from './payment-types';

export type { AcceptOutcome, LeaseOptions, PaymentAnswer, PendingDelivery } from './payment-types';

/**
 * The webhook's one transaction, one round trip: the event, the payment and its delivery row
 * (the SQL function `stockhold_accept_payment`, prisma/functions/stockhold_accept_payment.sql:
 * its header gives each outcome and the lock order).
 */
export async function acceptPayment(db: Db, p: OrderPayment, relayGraceMs: number): Promise<AcceptOutcome> {
  const maria = mariadbOf(db);
  if (maria) return acceptPaymentOnMariadb(maria, p, relayGraceMs);
  const [row] = await db.$queryRaw<{ kind: string; answer: string | null; message: string | null }[]>`
    SELECT kind, answer, message FROM stockhold_accept_payment(${p.eventId}, ${p.orderId}, ${p.paymentId}, ${p.amountCents}::int, ${relayGraceMs}::int, ${p.currency ?? null}::text)`;
  if (row.kind === 'conflict') return { kind: 'conflict', message: row.message ?? 'conflicting payment event' };
  if (row.kind === 'duplicate') return { kind: 'duplicate', answer: row.answer ?? 'ACCEPTED' };
  const answer = row.answer as PaymentAnswer;
  return { kind: 'accepted', answer, deliver: answer === 'ACCEPTED' };
}

/**
 * One relay pass's work: closes the due rows whose payment is settled, then leases due rows
 * of PENDING payments (SKIP LOCKED, so several workers share them) and pushes each one's next
 * attempt out with backoff — a failed attempt is retried then; a successful one moves it to
 * its re-check (recordDelivered).
 */
export async function leaseDueDeliveries(db: Db, options: LeaseOptions): Promise<PendingDelivery[]> {
  const maria = mariadbOf(db);
  if (maria) return leaseDueDeliveriesOnMariadb(maria, options);
  await db.$executeRaw`
    DELETE FROM payment_deliveries d USING payments p
     WHERE d.next_attempt_at <= now() AND p.order_id = d.order_id AND p.payment_id = d.payment_id AND p.state <> 'PENDING'`;
  const rows = await db.$queryRaw<
    {
      order_id: string;
      payment_id: string;
      event_id: string;
      amount_cents: number;
      received_at: Date;
      delivered_at: Date | null;
    }[]
  >`
    WITH due AS (
      SELECT order_id, payment_id FROM payment_deliveries
       WHERE next_attempt_at <= now()
       ORDER BY next_attempt_at LIMIT ${options.batch} FOR UPDATE SKIP LOCKED)
    UPDATE payment_deliveries d SET attempts = d.attempts + 1,
           next_attempt_at = now() + LEAST(interval '1 second' * power(2, LEAST(d.attempts, 20)), ${options.maxBackoffMs} * interval '1 millisecond')
      FROM due
     WHERE d.order_id = due.order_id AND d.payment_id = due.payment_id
    RETURNING d.order_id, d.payment_id, d.event_id, d.amount_cents, d.delivered_at,
              (SELECT p.received_at FROM payments p WHERE p.order_id = d.order_id AND p.payment_id = d.payment_id) AS received_at`;
  return rows.map((r) => ({
    orderId: r.order_id,
    paymentId: r.payment_id,
    eventId: r.event_id,
    amountCents: r.amount_cents,
    receivedAt: (r.received_at ?? new Date()).toISOString(),
    ...(r.delivered_at ? { deliveredAt: r.delivered_at.toISOString() } : {}),
  }));
}

/**
 * A delivery went through (or a re-check found the saga still running with it): the event
 * records how (DELIVERED, LATE_SETTLEMENT), unless a settlement already recorded its result,
 * and the row's next look is a re-check no sooner than `recheckMs` from now — by then the
 * payment should be settled and the row closed.
 */
export async function recordDelivered(db: Db, d: OrderPayment, result: string, recheckMs: number): Promise<void> {
  const maria = mariadbOf(db);
  if (maria) return recordDeliveredOnMariadb(maria, d, result, recheckMs);
  await db.$executeRaw`
    WITH recheck AS (
      UPDATE payment_deliveries SET delivered_at = now(), next_attempt_at = GREATEST(next_attempt_at, now() + ${recheckMs} * interval '1 millisecond')
       WHERE order_id = ${d.orderId} AND payment_id = ${d.paymentId})
    UPDATE payment_events SET result = ${result} WHERE event_id = ${d.eventId} AND result = 'RECEIVED'`;
}

/** Open deliveries (tests and the runbook's query read the same table). */
export async function openDeliveries(db: Db): Promise<number> {
  const maria = mariadbOf(db);
  if (maria) return openDeliveriesOnMariadb(maria);
  return db.paymentDelivery.count();
}

/**
 * A `payment.pending` event: the payment is on its way (a 3-D Secure challenge), so the hold
 * is extended by `seconds`, once per payment (extension id `payment-pending:<paymentId>`),
 * within the caps. The event is stored (type `payment.pending`) with its answer in the same
 * transaction as the extension, under the order's serial lock: a redelivered event gets its
 * first answer; its id seen with other content is a conflict and changes nothing. The answer is
 * EXTENDED, the refusal's code (HOLD_EXPIRED, NOT_EXTENDABLE, EXTENSION_LIMIT_REACHED), or
 * NO_HOLD when PostgreSQL holds nothing for the order.
 */
export async function acceptPendingPayment(
  db: Db,
  p: OrderPayment,
  seconds: number,
  caps: HoldExtensionCaps,
): Promise<PendingOutcome> {
  const maria = mariadbOf(db);
  if (maria) return acceptPendingPaymentOnMariadb(maria, p, seconds, caps);
  return inKeyLockedTx(db, p.orderId, async (tx): Promise<PendingOutcome> => {
    const inserted = await tx.$executeRaw`
      INSERT INTO payment_events (event_id, order_id, payment_id, amount_cents, currency, result, type)
      VALUES (${p.eventId}, ${p.orderId}, ${p.paymentId}, ${p.amountCents}, ${p.currency ?? null}, 'RECEIVED', ${PaymentEventType.PENDING})
      ON CONFLICT (event_id) DO NOTHING`;
    if (inserted === 0) {
      const [seen] = await tx.$queryRaw<
        { order_id: string; payment_id: string; amount_cents: number; type: string; answer: string | null }[]
      >`
        SELECT order_id, payment_id, amount_cents, type, answer FROM payment_events WHERE event_id = ${p.eventId} FOR UPDATE`;
      return redeliveredPendingEvent(p.eventId, seen, p);
    }
    const extension = await extendHoldTx(tx, pendingPaymentExtension(p, seconds), caps);
    const answer = pendingPaymentAnswer(extension?.outcome);
    await tx.$executeRaw`UPDATE payment_events SET answer = ${answer}, result = ${answer}, delivered_at = now() WHERE event_id = ${p.eventId}`;
    return { kind: 'accepted', answer, ...(extension ? { extension: extension.outcome } : {}) };
  });
}

export type { PendingOutcome };
