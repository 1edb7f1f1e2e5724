/**
 * The payment webhook's transaction and the outbox of payment deliveries on MySQL/MariaDB
 * (issue 22): the contract of data/payments/payment-deliveries.ts for InnoDB. The webhook's
 * transaction is one CALL of prisma/mysql/procedures/stockhold_accept_payment.sql (one round
 * trip, as PostgreSQL's function); the relay leases due rows with `FOR UPDATE SKIP LOCKED`
 * (MariaDB 10.6+, MySQL 8.0.1+) and pushes each one's next attempt out in the same
 * transaction, so two relays never take the same row in one pass.
 */
import type { Pool } from 'mariadb';
import type { OrderPayment } from '../../domain/payments';
import type { AcceptOutcome, LeaseOptions, PaymentAnswer, PendingDelivery } from '../payments/payment-types';
import { isoColumn, isoOf } from './payments';
import { inMariadbTx } from './tx';

/** The webhook's one transaction, one round trip: the event, the payment and its delivery row. */
export async function acceptPaymentOnMariadb(
  pool: Pool,
  p: OrderPayment,
  relayGraceMs: number,
): Promise<AcceptOutcome> {
  const result = await pool.query<{ kind: string; answer: string | null; message: string | null }[][]>(
    'CALL stockhold_accept_payment(?, ?, ?, ?, ?, ?)',
    [p.eventId, p.orderId, p.paymentId, p.amountCents, relayGraceMs, p.currency ?? null],
  );
  // A CALL answers its result set, then the OK packet.
  const [row] = result[0];
  if (row.kind === 'conflict') return { kind: 'conflict', message: row.message ?? 'conflicting payment event' };
  if (row.kind === 'duplicate') return { kind: 'duplicate', answer: row.answer ?? 'ACCEPTED' };
  const answer = row.answer as PaymentAnswer;
  return { kind: 'accepted', answer, deliver: answer === 'ACCEPTED' };
}

interface LeasedRow {
  order_id: string;
  payment_id: string;
  event_id: string;
  amount_cents: number;
  received_at: string | null;
  delivered_at: string | null;
  /** The payment's state (NULL: no payment row, which the webhook never leaves). */
  state: string | null;
}

/**
 * One relay pass's work: takes up to `batch` due rows with a locking read that skips the rows
 * another relay holds (it never waits for one), closes those whose payment is settled, and
 * pushes the others' next attempt out with backoff (2^attempts seconds, at most maxBackoffMs)
 * before handing them out: the transaction commits first, so a relay reading them after it
 * finds them not due. The payments' states are a plain read (READ COMMITTED, no lock): a
 * settlement holds its payment row and then deletes the delivery row, so a relay that locked a
 * payment after its delivery rows could deadlock with it. A due row settled just after that read
 * is leased once more and closed at its next look, as on PostgreSQL.
 */
export async function leaseDueDeliveriesOnMariadb(pool: Pool, options: LeaseOptions): Promise<PendingDelivery[]> {
  const rows = await inMariadbTx(pool, async (tx) => {
    const due = await tx.query<{ order_id: string; payment_id: string }[]>(
      `SELECT order_id, payment_id FROM payment_deliveries WHERE next_attempt_at <= UTC_TIMESTAMP(3)
        ORDER BY next_attempt_at LIMIT ? FOR UPDATE SKIP LOCKED`,
      [options.batch],
    );
    if (due.length === 0) return [];
    const keys = due.map(() => '(?, ?)').join(', ');
    const params = due.flatMap((d) => [d.order_id, d.payment_id]);
    const leased = await tx.query<LeasedRow[]>(
      `SELECT d.order_id, d.payment_id, d.event_id, d.amount_cents, ${isoColumn('d.delivered_at')} AS delivered_at,
              ${isoColumn('p.received_at')} AS received_at, p.state
         FROM payment_deliveries d LEFT JOIN payments p ON p.order_id = d.order_id AND p.payment_id = d.payment_id
        WHERE (d.order_id, d.payment_id) IN (${keys})
        ORDER BY d.next_attempt_at`,
      params,
    );
    const settled = leased.filter((r) => r.state !== null && r.state !== 'PENDING');
    if (settled.length > 0)
      await tx.query(
        `DELETE FROM payment_deliveries WHERE (order_id, payment_id) IN (${settled.map(() => '(?, ?)').join(', ')})`,
        settled.flatMap((r) => [r.order_id, r.payment_id]),
      );
    const open = leased.filter((r) => !settled.includes(r));
    if (open.length === 0) return [];
    // MySQL assigns left to right: next_attempt_at is computed from the attempts before this one.
    await tx.query(
      `UPDATE payment_deliveries
          SET next_attempt_at = UTC_TIMESTAMP(3) + INTERVAL LEAST(POW(2, LEAST(attempts, 20)) * 1000, ?) * 1000 MICROSECOND,
              attempts = attempts + 1
        WHERE (order_id, payment_id) IN (${open.map(() => '(?, ?)').join(', ')})`,
      [options.maxBackoffMs, ...open.flatMap((r) => [r.order_id, r.payment_id])],
    );
    return open;
  });
  return rows.map((r) => ({
    orderId: r.order_id,
    paymentId: r.payment_id,
    eventId: r.event_id,
    amountCents: r.amount_cents,
    receivedAt: r.received_at ? isoOf(r.received_at) : new Date().toISOString(),
    ...(r.delivered_at ? { deliveredAt: isoOf(r.delivered_at) } : {}),
  }));
}

/**
 * A delivery went through: the event records how (unless a settlement recorded its result
 * first) and the row's next look is a re-check no sooner than `recheckMs` from now. Both in one
 * transaction, as PostgreSQL's one statement.
 */
export async function recordDeliveredOnMariadb(
  pool: Pool,
  d: OrderPayment,
  result: string,
  recheckMs: number,
): Promise<void> {
  await inMariadbTx(pool, async (tx) => {
    await tx.query(
      `UPDATE payment_deliveries
          SET delivered_at = UTC_TIMESTAMP(3),
              next_attempt_at = GREATEST(next_attempt_at, UTC_TIMESTAMP(3) + INTERVAL ? * 1000 MICROSECOND)
        WHERE order_id = ? AND payment_id = ?`,
      [recheckMs, d.orderId, d.paymentId],
    );
    await tx.query(`UPDATE payment_events SET result = ? WHERE event_id = ? AND result = 'RECEIVED'`, [
      result,
      d.eventId,
    ]);
  });
}

/** Open deliveries. */
export async function openDeliveriesOnMariadb(pool: Pool): Promise<number> {
  const [row] = await pool.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM payment_deliveries');
  return Number(row.n);
}
