/**
 * The cache outbox in PostgreSQL: invalidations recorded in the transaction of the stock
 * change they describe (data/db.ts writeMovements writes them, so the stock layer
 * needs nothing of the cache), claimed by the relay, deleted once Redis has applied them.
 */
import type { Db, Tx } from '../db';
import { mariadbOf } from '../mariadb/db';
import { pendingSkusOnMariadb } from '../mariadb/cache';

/** A claimed row: the relay holds its lock until it has applied or rescheduled it. */
export interface OutboxRow {
  readonly id: string;
  readonly sku: string;
  readonly attempts: number;
}

/**
 * Claims up to `limit` due rows, locked for the claiming transaction. SKIP LOCKED lets
 * several relays (one per worker) share the outbox without taking the same row twice.
 */
export async function claimDue(tx: Tx, limit: number): Promise<OutboxRow[]> {
  const rows = await tx.$queryRaw<{ id: bigint; sku: string; attempts: number }[]>`
    SELECT id, sku, attempts FROM cache_outbox
     WHERE next_attempt_at <= now()
     ORDER BY id LIMIT ${limit}
     FOR UPDATE SKIP LOCKED`;
  return rows.map((r) => ({ id: r.id.toString(), sku: r.sku, attempts: r.attempts }));
}

export async function completeRows(tx: Tx, ids: readonly string[]): Promise<void> {
  await tx.$executeRaw`DELETE FROM cache_outbox WHERE id = ANY(${[...ids]}::bigint[])`;
}

/** Schedules another attempt: 200 ms doubling per attempt, capped at 30 s. */
export async function rescheduleRows(tx: Tx, ids: readonly string[]): Promise<void> {
  await tx.$executeRaw`
    UPDATE cache_outbox
       SET attempts = attempts + 1,
           next_attempt_at = now() + LEAST(interval '30 seconds', interval '200 milliseconds' * power(2, LEAST(attempts, 10)))
     WHERE id = ANY(${[...ids]}::bigint[])`;
}

/** SKUs with an invalidation not yet applied: a difference on them is in flight, not drift. */
export async function pendingSkus(db: Db, skus: readonly string[]): Promise<Set<string>> {
  const maria = mariadbOf(db);
  if (maria) return pendingSkusOnMariadb(maria, skus);
  const rows = await db.$queryRaw<{ sku: string }[]>`
    SELECT DISTINCT sku FROM cache_outbox WHERE sku = ANY(${[...skus]}::text[])`;
  return new Set(rows.map((r) => r.sku));
}
