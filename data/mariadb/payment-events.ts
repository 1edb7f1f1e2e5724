/**
 * The payment provider's other events on MySQL/MariaDB (issue 22): the contract of
 * data/payments/payment-events.ts for InnoDB. An event's id is its claim: a plain INSERT, and
 * the duplicate key (error 1062, after waiting for the other transaction's commit) means it was
 * seen — its first answer, or a conflict when it came with other content (mechanism 4).
 */
import type { Pool } from 'mariadb';
import { PaymentState, refundStates, type OrderPayment, type PaymentEventType } from '../../domain/payments';
import type { EventClaim, LifecycleEvent } from '../payments/payment-types';
import { isoColumn, isoOf, type MariadbQueryable } from './payments';
import { inMariadbTx, isDuplicateKey, lockSerial } from './tx';

/** Stores the event (its answer still open) unless its id was seen: then its first answer, or a conflict. */
export async function claimPaymentEventOnMariadb(
  db: MariadbQueryable,
  p: OrderPayment,
  type: PaymentEventType,
): Promise<EventClaim> {
  try {
    await db.query(
      `INSERT INTO payment_events (event_id, order_id, payment_id, amount_cents, currency, result, type)
       VALUES (?, ?, ?, ?, ?, 'RECEIVED', ?)`,
      [p.eventId, p.orderId, p.paymentId, p.amountCents, p.currency ?? null, type],
    );
    return { kind: 'new' };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
  const [seen] = await db.query<
    { order_id: string; payment_id: string; amount_cents: number; type: string; answer: string | null }[]
  >('SELECT order_id, payment_id, amount_cents, type, answer FROM payment_events WHERE event_id = ?', [p.eventId]);
  const same =
    seen.order_id === p.orderId &&
    seen.payment_id === p.paymentId &&
    seen.amount_cents === p.amountCents &&
    seen.type === type;
  if (!same) return { kind: 'conflict', message: `event ${p.eventId} was delivered with other content` };
  return seen.answer === null ? { kind: 'new' } : { kind: 'duplicate', answer: seen.answer };
}

/** Records the answer an event got (and what it did), so a redelivery gets it again. */
export async function answerPaymentEventOnMariadb(
  db: MariadbQueryable,
  eventId: string,
  answer: string,
): Promise<void> {
  await db.query(
    'UPDATE payment_events SET answer = ?, result = ?, delivered_at = UTC_TIMESTAMP(3) WHERE event_id = ?',
    [answer, answer, eventId],
  );
}

/** An answered event, or what its claim found. */
export type AnsweredEvent = EventClaim | { readonly kind: 'answered'; readonly answer: string };

/** payment.failed: a fact for the order's history, under the order's serial slot. Answer RECORDED. */
export async function recordFailedPaymentOnMariadb(
  pool: Pool,
  p: OrderPayment,
  type: PaymentEventType,
): Promise<AnsweredEvent> {
  return inMariadbTx(pool, async (tx) => {
    await lockSerial(tx, p.orderId);
    const claim = await claimPaymentEventOnMariadb(tx, p, type);
    if (claim.kind !== 'new') return claim;
    await answerPaymentEventOnMariadb(tx, p.eventId, 'RECORDED');
    return { kind: 'answered', answer: 'RECORDED' };
  });
}

/**
 * payment.refunded: a payment owed back is closed REFUNDED (one guarded UPDATE: only from a
 * refund state); on a sale or a PENDING payment the refund is recorded and nothing moves;
 * NO_PAYMENT when none is stored. Under the order's serial slot, in one transaction.
 */
export async function recordRefundOnMariadb(
  pool: Pool,
  p: OrderPayment,
  type: PaymentEventType,
): Promise<AnsweredEvent> {
  return inMariadbTx(pool, async (tx) => {
    await lockSerial(tx, p.orderId);
    const claim = await claimPaymentEventOnMariadb(tx, p, type);
    if (claim.kind !== 'new') return claim;
    const closed = await tx.query<{ affectedRows: number }>(
      `UPDATE payments SET state = ?, settled_at = UTC_TIMESTAMP(3),
              reason = CONCAT(COALESCE(CONCAT(reason, '; '), ''), ?)
        WHERE order_id = ? AND payment_id = ? AND state IN (${refundStates.map(() => '?').join(', ')})`,
      [PaymentState.REFUNDED, `refunded (event ${p.eventId})`, p.orderId, p.paymentId, ...refundStates],
    );
    const [stored] =
      closed.affectedRows > 0
        ? []
        : await tx.query<{ state: string }[]>('SELECT state FROM payments WHERE order_id = ? AND payment_id = ?', [
            p.orderId,
            p.paymentId,
          ]);
    const answer =
      closed.affectedRows > 0 || stored?.state === PaymentState.REFUNDED
        ? 'REFUNDED'
        : stored
          ? 'RECORDED'
          : 'NO_PAYMENT';
    await answerPaymentEventOnMariadb(tx, p.eventId, answer);
    return { kind: 'answered', answer };
  });
}

/** The order's payment events other than payments made, oldest first. */
export async function lifecycleEventsOnMariadb(
  pool: Pool,
  orderId: string,
  succeededType: string,
): Promise<LifecycleEvent[]> {
  const rows = await pool.query<
    {
      eventId: string;
      type: string;
      paymentId: string;
      amountCents: number;
      answer: string | null;
      receivedAt: string;
    }[]
  >(
    `SELECT event_id AS eventId, type, payment_id AS paymentId, amount_cents AS amountCents, answer,
            ${isoColumn('received_at')} AS receivedAt
       FROM payment_events WHERE order_id = ? AND type <> ? ORDER BY received_at, event_id`,
    [orderId, succeededType],
  );
  return rows.map(({ answer, receivedAt, ...r }) => ({
    ...r,
    result: answer ?? 'RECEIVED',
    receivedAt: isoOf(receivedAt),
  }));
}
