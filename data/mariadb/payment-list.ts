/**
 * Payments as a list on MySQL/MariaDB (issue 22): GET /admin/payments and the console's
 * counts, the reads of data/payments/payment-list.ts. Newest first by (received_at, order_id,
 * payment_id), a keyset page after a position (the index payments_received_at_order_id_payment_id_idx,
 * or the state's); the caller makes the page and its cursor.
 */
import type { Pool } from 'mariadb';
import type { KeyValue } from '../../domain/cursor';
import type { PaymentListRow } from '../payments/payment-types';
import { isoColumn, isoOf, utcParam } from './payments';

/** Up to `take` payments (optionally in one state, or of one order) after `after`, newest first. */
export async function listPaymentsOnMariadb(
  pool: Pool,
  f: { state?: string; orderId?: string },
  take: number,
  after?: KeyValue[],
): Promise<PaymentListRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.state !== undefined) {
    where.push('state = ?');
    params.push(f.state);
  }
  if (f.orderId !== undefined) {
    where.push('order_id = ?');
    params.push(f.orderId);
  }
  if (after) {
    where.push('(received_at, order_id, payment_id) < (?, ?, ?)');
    params.push(utcParam(String(after[0])), String(after[1]), String(after[2]));
  }
  const rows = await pool.query<
    (Omit<PaymentListRow, 'receivedAt' | 'settledAt'> & { receivedAt: string; settledAt: string | null })[]
  >(
    `SELECT order_id AS orderId, payment_id AS paymentId, amount_cents AS amountCents, state, reason,
            ${isoColumn('received_at')} AS receivedAt, ${isoColumn('settled_at')} AS settledAt
       FROM payments ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY received_at DESC, order_id DESC, payment_id DESC LIMIT ?`,
    [...params, take],
  );
  return rows.map((r) => ({ ...r, receivedAt: isoOf(r.receivedAt), settledAt: isoOf(r.settledAt) }));
}

/** Payments per state (every state that has one). */
export async function countPaymentsByStateOnMariadb(pool: Pool): Promise<Record<string, number>> {
  const rows = await pool.query<{ state: string; n: number }[]>(
    'SELECT state, COUNT(*) AS n FROM payments GROUP BY state',
  );
  return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
}
