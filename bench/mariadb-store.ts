/**
 * The bench's reads of the store when the service runs on MariaDB (`--store mariadb`, issue 22
 * items 4–5): the same facts the PostgreSQL bench reads through Prisma and node-postgres, by
 * direct SQL on the owner's pool (`db.mariadb`), and MariaDB's own raw hot-row baseline.
 * Each function answers what its PostgreSQL counterpart answers, so the phases, the checks and
 * the summary are the same code on both stores.
 */
import type { Pool } from 'mariadb';
import { createMariadbPool } from '../platform/mariadb';
import { round } from './load';
import type { BatchesSeen } from './batch-cost';

/**
 * The raw hot-row baseline on MariaDB: `UPDATE bench_hot_pool SET remaining = remaining - 1
 * WHERE id = 'C' AND remaining >= 1`, prepared, one per autocommit transaction, from
 * `connections` sessions (the API's pool size), each sending its next as soon as one answers;
 * updates per second. The shape of bench/baselines.ts's r0 on this store. A scratch table, so
 * writes that bypass the ledger disturb none of the service's invariants.
 */
export async function mariadbHotRowCeiling(url: string, seconds: number, connections: number): Promise<number> {
  const pool = createMariadbPool(url, { connectionLimit: Math.max(connections, 1) });
  try {
    await pool.query(
      'CREATE TABLE IF NOT EXISTS bench_hot_pool (id VARCHAR(16) PRIMARY KEY, remaining INT NOT NULL) ENGINE=InnoDB',
    );
    await pool.query(
      "INSERT INTO bench_hot_pool VALUES ('C', 1000000000) ON DUPLICATE KEY UPDATE remaining = 1000000000",
    );
    return await hotRowLoop(pool, seconds, connections);
  } finally {
    await pool.end();
  }
}

/** `connections` sessions on `bench_hot_pool` (which exists) for `seconds`: updates per second. */
export async function hotRowLoop(pool: Pool, seconds: number, connections: number): Promise<number> {
  const sql = "UPDATE bench_hot_pool SET remaining = remaining - 1 WHERE id = 'C' AND remaining >= 1";
  const conns = await Promise.all(Array.from({ length: connections }, () => pool.getConnection()));
  try {
    // Every session open and the statement prepared on each before the clock starts.
    await Promise.all(conns.map((c) => c.execute(sql)));
    let done = 0;
    const started = performance.now();
    const until = started + seconds * 1000;
    await Promise.all(
      conns.map(async (conn) => {
        while (performance.now() < until) {
          await conn.execute(sql);
          done += 1;
        }
      }),
    );
    return done / ((performance.now() - started) / 1000);
  } finally {
    await Promise.all(conns.map((c) => c.release()));
  }
}

/** Holds still open and payments still PENDING (waitAllClosed's two counts). */
export async function openWorkOnMariadb(pool: Pool): Promise<{ holds: number; pending: number }> {
  const [row] = await pool.query<{ holds: number; pending: number }[]>(
    `SELECT (SELECT COUNT(*) FROM reservations WHERE status = 'RESERVED') AS holds,
            (SELECT COUNT(*) FROM payments WHERE state = 'PENDING') AS pending`,
  );
  return { holds: Number(row.holds), pending: Number(row.pending) };
}

/** When each of these holds committed (its created_at), and when the last of their payments was settled. */
export async function holdTimesOnMariadb(
  pool: Pool,
  ids: string[],
): Promise<{ created: { id: string; created_at: Date }[]; lastSettledAt: Date | null }> {
  if (ids.length === 0) return { created: [], lastSettledAt: null };
  const created = await pool.query<{ id: string; created_at: Date }[]>(
    'SELECT id, created_at FROM reservations WHERE id IN (?)',
    [ids],
  );
  const [settled] = await pool.query<{ at: Date | null }[]>(
    'SELECT MAX(settled_at) AS at FROM payments WHERE order_id IN (?)',
    [ids],
  );
  return { created: [...created], lastSettledAt: settled?.at ?? null };
}

/**
 * The batches of an order-id prefix's holds, as bench/batch-cost.ts's `batchesSeen` reads them
 * on PostgreSQL: holds grouped by their created_at. On MariaDB a hold's created_at is the
 * CURRENT_TIMESTAMP(3) of the one INSERT … SELECT that `stockhold_hold_batch` writes a batch's
 * holds with (row by row only after a duplicate order id), so a group is a batch; two batches
 * in the same millisecond count as one (a diagnostic, never a target).
 */
export async function batchesSeenOnMariadb(
  pool: Pool,
  orderIdPrefix: string,
  firstAdmission: number,
  until: number,
): Promise<BatchesSeen> {
  const rows = await pool.query<{ at: Date; n: number }[]>(
    `SELECT created_at AS at, COUNT(*) AS n FROM reservations
      WHERE order_id LIKE ? AND order_id NOT LIKE '%:%' AND created_at <= ? GROUP BY created_at ORDER BY created_at`,
    [`${orderIdPrefix}%`, new Date(until)],
  );
  const cycles = rows
    .slice(1)
    .map((r, i) => r.at.getTime() - rows[i].at.getTime())
    .sort((a, b) => a - b);
  const at = (q: number) => (cycles.length ? cycles[Math.min(cycles.length - 1, Math.floor(q * cycles.length))] : 0);
  return {
    batches: rows.length,
    meanSize: rows.length ? round(rows.reduce((s, r) => s + Number(r.n), 0) / rows.length, 1) : 0,
    maxSize: Math.max(0, ...rows.map((r) => Number(r.n))),
    cycleMs: { p50: at(0.5), p95: at(0.95), max: cycles.at(-1) ?? 0 },
    firstBatchAfterMs: rows.length ? round(rows[0].at.getTime() - firstAdmission) : 0,
  };
}

/** What the end-of-run checks read from the store (bench/checks.ts), on MariaDB. */
export async function checkFactsOnMariadb(
  pool: Pool,
  prefixes: readonly string[],
  campaignId: string,
  level: { sku: string; warehouseCode: string },
): Promise<{
  sold: Record<string, { units: number; confirmedPayments: number }>;
  campaignRemaining: number | undefined;
  levelReserved: number | undefined;
  openHolds: number;
  pendingPayments: number;
  unstartedSagas: number;
}> {
  const sold: Record<string, { units: number; confirmedPayments: number }> = {};
  for (const prefix of prefixes) {
    const [units] = await pool.query<{ units: number }[]>(
      `SELECT COALESCE(SUM(l.quantity), 0) AS units FROM reservations r JOIN reservation_lines l ON l.reservation_id = r.id
        WHERE r.order_id LIKE ? AND r.status = 'CONFIRMED'`,
      [`${prefix}%`],
    );
    const [paid] = await pool.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM payments WHERE order_id LIKE ? AND state = 'CONFIRMED'",
      [`${prefix}%`],
    );
    sold[prefix] = { units: Number(units.units), confirmedPayments: Number(paid.n) };
  }
  const [campaign] = await pool.query<{ remaining: number }[]>('SELECT remaining FROM campaigns WHERE id = ?', [
    campaignId,
  ]);
  const [lvl] = await pool.query<{ reserved: number }[]>(
    'SELECT reserved FROM inventory_levels WHERE sku = ? AND warehouse_code = ?',
    [level.sku, level.warehouseCode],
  );
  const [counts] = await pool.query<{ holds: number; pending: number; unstarted: number }[]>(
    `SELECT (SELECT COUNT(*) FROM reservations WHERE status = 'RESERVED') AS holds,
            (SELECT COUNT(*) FROM payments WHERE state = 'PENDING') AS pending,
            (SELECT COUNT(*) FROM saga_starts WHERE started_at IS NULL) AS unstarted`,
  );
  return {
    sold,
    campaignRemaining: campaign === undefined ? undefined : Number(campaign.remaining),
    levelReserved: lvl === undefined ? undefined : Number(lvl.reserved),
    openHolds: Number(counts.holds),
    pendingPayments: Number(counts.pending),
    unstartedSagas: Number(counts.unstarted),
  };
}
