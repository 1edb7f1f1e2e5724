/**
 * `saga_starts`, the order saga's outbox, on MySQL/MariaDB (issue 22): data/orders/saga-starts.ts
 * for InnoDB. The row is written with the hold (reserve.ts, the batch procedure); this module
 * reads, leases and marks rows. Times are the server's (UTC_TIMESTAMP), as PostgreSQL's now().
 */
import type { Pool } from 'mariadb';
import type { OrderWorkflowInput } from '../../domain/order-saga';
import { inMariadbTx, jsonValue } from './tx';

/** Marks rows started, in one statement; a row already marked stays as it was. */
export async function markSagasStartedOnMariadb(pool: Pool, orderIds: readonly string[]): Promise<void> {
  if (orderIds.length === 0) return;
  await pool.query(
    'UPDATE saga_starts SET started_at = UTC_TIMESTAMP(3) WHERE order_id IN (?) AND started_at IS NULL',
    [[...orderIds]],
  );
}

/**
 * Leases up to `batch` unmarked rows older than `graceMs` whose next attempt is due, as
 * PostgreSQL's: SKIP LOCKED (MariaDB 10.6+, MySQL 8.0.1+) lets several workers share them,
 * and each one's next attempt moves out (1 s doubling, capped at a minute) in the same
 * transaction. No UPDATE … RETURNING: the rows are read locked, then updated by key.
 */
export async function leaseDueSagaStartsOnMariadb(
  pool: Pool,
  options: { readonly graceMs: number; readonly batch: number },
): Promise<{ orderId: string; input: OrderWorkflowInput }[]> {
  return inMariadbTx(pool, async (tx) => {
    const due = await tx.query<{ order_id: string; input: unknown }[]>(
      `SELECT order_id, input FROM saga_starts
        WHERE started_at IS NULL AND next_attempt_at <= UTC_TIMESTAMP(3)
          AND created_at <= UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND
        ORDER BY created_at LIMIT ? FOR UPDATE SKIP LOCKED`,
      [Math.max(0, Math.round(options.graceMs * 1000)), options.batch],
    );
    if (due.length === 0) return [];
    // MySQL assigns left to right with the values already set: the backoff reads `attempts` before its increment.
    await tx.query(
      `UPDATE saga_starts SET next_attempt_at = UTC_TIMESTAMP(3) + INTERVAL LEAST(POW(2, attempts), 60) SECOND,
              attempts = attempts + 1
        WHERE order_id IN (?)`,
      [due.map((r) => r.order_id)],
    );
    return due.map((r) => ({ orderId: r.order_id, input: jsonValue(r.input) as OrderWorkflowInput }));
  });
}

/** An order's outbox row: its saga's input, and when it was marked started (null: not yet). */
export async function sagaOutboxOnMariadb(
  pool: Pool,
  orderId: string,
): Promise<{ input: OrderWorkflowInput; startedAt: Date | null } | undefined> {
  const [row] = await pool.query<{ input: unknown; started_at: Date | null }[]>(
    'SELECT input, started_at FROM saga_starts WHERE order_id = ?',
    [orderId],
  );
  return row ? { input: jsonValue(row.input) as OrderWorkflowInput, startedAt: row.started_at } : undefined;
}

/** Rows still unmarked `olderThanMs` after their hold committed, oldest first. */
export async function findUnstartedSagasOnMariadb(
  pool: Pool,
  olderThanMs: number,
  limit: number,
): Promise<{ orderId: string; createdAt: string }[]> {
  const rows = await pool.query<{ order_id: string; created_at: Date }[]>(
    `SELECT order_id, created_at FROM saga_starts
      WHERE started_at IS NULL AND created_at < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND
      ORDER BY created_at LIMIT ?`,
    [Math.max(0, Math.round(olderThanMs * 1000)), limit],
  );
  return rows.map((r) => ({ orderId: r.order_id, createdAt: r.created_at.toISOString() }));
}
