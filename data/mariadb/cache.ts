/**
 * The cache's side of MySQL/MariaDB (issue 22): the views it fills from (data/cache/source.ts),
 * its outbox (data/cache/outbox.ts) and the checker's reads and record (data/cache/checker.ts).
 * The database stays the authority: a view and its version are read in one snapshot, and an
 * outbox row is deleted only once Redis has applied it.
 */
import type { Pool } from 'mariadb';
import type { CacheDrift } from '../../domain/reports';
import { shapeInventory } from '../stock/inventory-view';
import { inventoryRowsOnMariadb } from './inventory-view';
import type { MariadbTx } from './tx';

/** A view with its version (data/cache/source.ts VersionedView), structurally. */
interface View<V> {
  readonly version: bigint;
  readonly view: V;
  readonly validForSeconds?: number;
}

/**
 * data/cache/source.ts loadViews on MariaDB: each SKU's view and version in one REPEATABLE
 * READ snapshot (WITH CONSISTENT SNAPSHOT takes it at START, before the first read), so a view
 * never carries a version it does not show. The version is Σ(version + 1) over the SKU's
 * levels: it grows with every committed level change, as on PostgreSQL.
 */
export async function loadViewsOnMariadb(pool: Pool, skus: readonly string[]) {
  type V = NonNullable<ReturnType<typeof shapeInventory>>;
  const out = new Map<string, View<V>>();
  for (const sku of new Set(skus)) {
    const conn = await pool.getConnection();
    try {
      await conn.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await conn.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      try {
        const view = shapeInventory(await inventoryRowsOnMariadb(conn, sku));
        if (!view) continue;
        const [meta] = await conn.query<{ version: number; next_change_seconds: number | null }[]>(
          `SELECT (SELECT CAST(COALESCE(SUM(version + 1), 0) AS SIGNED) FROM inventory_levels WHERE sku = ?) AS version,
                  (SELECT CAST(CEIL(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(3), MIN(t)) / 1e6) AS SIGNED)
                     FROM (SELECT alert_at AS t FROM stock_lots WHERE sku = ? AND quantity > 0
                           UNION ALL SELECT expires_at FROM stock_lots WHERE sku = ? AND quantity > 0
                           UNION ALL SELECT remove_at FROM stock_lots WHERE sku = ? AND quantity > 0) x
                    WHERE t > UTC_TIMESTAMP(3)) AS next_change_seconds`,
          [sku, sku, sku, sku],
        );
        out.set(sku, {
          version: BigInt(meta.version),
          view,
          validForSeconds: meta.next_change_seconds === null ? undefined : Number(meta.next_change_seconds),
        });
      } finally {
        await conn.rollback();
      }
    } finally {
      await conn.release();
    }
  }
  return out;
}

/** Every SKU after `after`, in byte order, for a full rebuild. */
export async function allSkusOnMariadb(pool: Pool, after: string, limit: number): Promise<string[]> {
  const rows = await pool.query<{ sku: string }[]>('SELECT sku FROM products WHERE sku > ? ORDER BY sku LIMIT ?', [
    after,
    limit,
  ]);
  return rows.map((r) => r.sku);
}

/** A claimed outbox row (data/cache/outbox.ts OutboxRow). */
export interface MariadbOutboxRow {
  readonly id: string;
  readonly sku: string;
  readonly attempts: number;
}

/**
 * Claims up to `limit` due rows for the claiming transaction: SKIP LOCKED (MariaDB 10.6+, MySQL
 * 8.0.1+) lets several relays share the outbox without taking one row twice.
 */
export async function claimDueOnMariadb(tx: MariadbTx, limit: number): Promise<MariadbOutboxRow[]> {
  const rows = await tx.query<{ id: number; sku: string; attempts: number }[]>(
    `SELECT id, sku, attempts FROM cache_outbox WHERE next_attempt_at <= UTC_TIMESTAMP(3)
      ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED`,
    [limit],
  );
  return rows.map((r) => ({ id: String(r.id), sku: r.sku, attempts: r.attempts }));
}

export async function completeRowsOnMariadb(tx: MariadbTx, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) await tx.query('DELETE FROM cache_outbox WHERE id IN (?)', [ids.map(Number)]);
}

/** Another attempt later: 200 ms doubling per attempt, capped at 30 s (as on PostgreSQL). */
export async function rescheduleRowsOnMariadb(tx: MariadbTx, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await tx.query(
    `UPDATE cache_outbox
        SET next_attempt_at = UTC_TIMESTAMP(3) + INTERVAL LEAST(30000000, 200000 * POW(2, LEAST(attempts, 10))) MICROSECOND,
            attempts = attempts + 1
      WHERE id IN (?)`,
    [ids.map(Number)],
  );
}

/** SKUs with an invalidation not yet applied. */
export async function pendingSkusOnMariadb(pool: Pool, skus: readonly string[]): Promise<Set<string>> {
  if (skus.length === 0) return new Set();
  const rows = await pool.query<{ sku: string }[]>('SELECT DISTINCT sku FROM cache_outbox WHERE sku IN (?)', [
    [...skus],
  ]);
  return new Set(rows.map((r) => r.sku));
}

/** The top `hotPercent` of the catalogue by quantity reserved in the last 24 hours. */
export async function hotSkusOnMariadb(pool: Pool, hotPercent: number): Promise<string[]> {
  const [{ products }] = await pool.query<{ products: number }[]>('SELECT COUNT(*) AS products FROM products');
  const n = Math.max(1, Math.ceil((Number(products) * hotPercent) / 100));
  const rows = await pool.query<{ sku: string }[]>(
    `SELECT sku FROM stock_movements
      WHERE reason = 'RESERVE' AND created_at > UTC_TIMESTAMP(3) - INTERVAL 24 HOUR
      GROUP BY sku ORDER BY SUM(reserved_delta) DESC, sku LIMIT ?`,
    [n],
  );
  return rows.map((r) => r.sku);
}

/** `n` SKUs at random, none of `exclude`. */
export async function randomSkusOnMariadb(pool: Pool, n: number, exclude: readonly string[]): Promise<string[]> {
  if (n === 0) return [];
  const rows = await pool.query<{ sku: string }[]>(
    `SELECT sku FROM products ${exclude.length > 0 ? 'WHERE sku NOT IN (?)' : ''} ORDER BY RAND() LIMIT ?`,
    exclude.length > 0 ? [[...exclude], n] : [n],
  );
  return rows.map((r) => r.sku);
}

/** A cache check as data/cache/checker.ts records it (Prisma's CacheCheck). */
export interface MariadbCacheCheck {
  readonly id: bigint;
  readonly checkedAt: Date;
  readonly hot: number;
  readonly sampled: number;
  readonly compared: number;
  readonly drifted: number;
  readonly driftPpm: number;
  readonly rebuilt: boolean;
  readonly details: unknown;
}

type CheckInput = Omit<MariadbCacheCheck, 'id' | 'checkedAt' | 'details'> & {
  readonly details: { drifts: CacheDrift[] };
};

const CHECK_COLUMNS = `id, checked_at AS checkedAt, hot, sampled, compared, drifted, drift_ppm AS driftPpm, rebuilt, details`;

function checkOf(row: Omit<MariadbCacheCheck, 'id' | 'rebuilt'> & { id: number; rebuilt: number | boolean }) {
  return {
    ...row,
    id: BigInt(row.id),
    rebuilt: Boolean(row.rebuilt),
    details: typeof row.details === 'string' ? JSON.parse(row.details) : row.details,
  };
}

/** Records one check in cache_checks (migration 0030_cache_checks) and returns its row. */
export async function recordCheckOnMariadb(pool: Pool, c: CheckInput): Promise<MariadbCacheCheck> {
  const done = await pool.query<{ insertId: number }>(
    `INSERT INTO cache_checks (hot, sampled, compared, drifted, drift_ppm, rebuilt, details) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    [c.hot, c.sampled, c.compared, c.drifted, c.driftPpm, c.rebuilt, JSON.stringify(c.details)],
  );
  const [row] = await pool.query<Parameters<typeof checkOf>[0][]>(
    `SELECT ${CHECK_COLUMNS} FROM cache_checks WHERE id = ?`,
    [done.insertId],
  );
  return checkOf(row);
}

/** The latest checks, newest first. */
export async function recentChecksOnMariadb(pool: Pool, limit: number): Promise<MariadbCacheCheck[]> {
  const rows = await pool.query<Parameters<typeof checkOf>[0][]>(
    `SELECT ${CHECK_COLUMNS} FROM cache_checks ORDER BY id DESC LIMIT ?`,
    [limit],
  );
  return rows.map(checkOf);
}
