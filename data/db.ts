/**
 * Database access: the Prisma client (driver adapter over node-postgres) and the
 * transaction + fence helpers every stock change goes through.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { PrismaPg } from '@prisma/adapter-pg';
import type { Config } from '../config';
import { PrismaClient } from '../generated/prisma/client';
import { pgConfig, type PgSessionSettings } from '../platform/postgres';
import { isMysqlUrl } from '../platform/mariadb';
import { createMariadbDb, type MariadbPool } from './mariadb/db';
import type { Operation } from '../domain/types';

/**
 * What a process does with the SKUs of each committed stock change (the cache drops them:
 * data/cache invalidateOnCommit). Best effort: the outbox row written in the transaction is
 * what guarantees the invalidation if the process dies or Redis is down.
 */
export type AfterCommit = (skus: string[]) => Promise<unknown>;

/**
 * The Prisma client, plus the one dependency a commit needs: its after-commit listener,
 * passed in by the process that wires the cache (none: scripts, seed, tests of the outbox).
 */
export type Db = PrismaClient & {
  afterCommit?: AfterCommit;
  /**
   * Set when the store is MySQL/MariaDB (DATABASE_URL mysql:// or mariadb://, docs/mysql.md):
   * the pool every data function that runs there uses instead of Prisma's PostgreSQL client.
   */
  readonly mariadb?: MariadbPool;
};
/** The transaction client Prisma hands to an interactive transaction. */
export type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

/** Connection-pool and session settings (TLS, timeouts, keepalive); see docs/settings.md. */
export interface DbOptions extends PgSessionSettings {
  readonly maxConnections?: number;
}

export function createDb(databaseUrl: string, options: DbOptions = {}): Db {
  if (isMysqlUrl(databaseUrl)) return createMariadbDb(databaseUrl, options.maxConnections) as Db;
  const adapter = new PrismaPg(pgConfig(databaseUrl, options, options.maxConnections ?? 10));
  return new PrismaClient({ adapter });
}

/**
 * SKUs each open transaction changed, noted by writeMovements and read by inKeyLockedTx once
 * it has committed. Keyed by Prisma's transaction client, the only identity of a transaction
 * writeMovements sees; entries go with the transaction (weak keys). Private to this module.
 */
const touchedByTx = new WeakMap<Tx, Set<string>>();

/** Runs `db`'s after-commit listener for SKUs a commit changed; its failure never fails the caller. */
export async function skusCommitted(db: Db, skus: readonly string[]): Promise<void> {
  if (skus.length === 0 || !db.afterCommit) return;
  await db.afterCommit([...skus]).catch(() => undefined);
}

/** The pool options of the service's own processes: DB_POOL_MAX, the session timeouts, TLS. */
export function dbOptions(config: Pick<Config, 'database'>): DbOptions {
  return { ...config.database, maxConnections: config.database.poolMax };
}

/**
 * The actor of the system's own changes (`system:<writer>`: `system:sweeper`,
 * `system:order-saga`, `system:expiry`…), for every transaction `work` opens without a caller's
 * key: the worker runs each activity under its workflow's name, the API its own background
 * writers. A caller's key, when one is passed to {@link inKeyLockedTx}, always wins.
 */
const systemActor = new AsyncLocalStorage<string>();

/** Runs `work` with `system:<writer>` as the actor of the ledger rows it writes for no caller. */
export function asSystem<T>(writer: string, work: () => T): T {
  return systemActor.run(`system:${writer}`, work);
}

/** The actor a transaction records: the caller's key id, else the system writer running it. */
export function currentActor(actor?: string): string | undefined {
  return actor ?? systemActor.getStore();
}

/**
 * Runs `work` in one READ COMMITTED transaction (not SERIALIZABLE), serialised per business
 * key: a transaction-scoped advisory lock on `serial` (an order, a campaign, a transfer...).
 *
 * The advisory lock makes reserve/confirm/release of one serial strictly sequential, so
 * "release before reserve" and "confirm twice" are decided on a consistent view. The short
 * lock_timeout turns a stuck row lock into a fast, retryable failure (the incident's ghost
 * holds came from releases that waited, failed, and were never retried).
 *
 * `actor`: the key id the change is made for; every ledger row the transaction writes
 * records it (the `stock_movements.actor` default reads this transaction-local setting, so
 * no step below has to pass it on). Without it the rows record the system writer running the
 * transaction ({@link asSystem}), or none (NULL) outside any.
 */
export async function inKeyLockedTx<T>(
  db: Db,
  serial: string,
  work: (tx: Tx) => Promise<T>,
  actor?: string,
): Promise<T> {
  let touched: Set<string> | undefined;
  const result = await db.$transaction(
    async (tx) => {
      touched = new Set();
      touchedByTx.set(tx, touched);
      await tx.$executeRaw`
        SELECT set_config('lock_timeout', '3s', true), set_config('stockhold.actor', ${currentActor(actor) ?? ''}, true),
               pg_advisory_xact_lock(hashtextextended(${serial}, 0))`;
      return work(tx);
    },
    { isolationLevel: 'ReadCommitted', maxWait: 10_000, timeout: 30_000 },
  );
  // After the commit, never inside it: drop the cache entries the change made stale.
  if (touched) await skusCommitted(db, [...touched]);
  return result;
}

/** The first recorded outcome of (serial, operation), if any. */
export async function readFence<T>(tx: Tx, serial: string, operation: Operation): Promise<T | undefined> {
  const rows = await tx.$queryRaw<{ outcome: T }[]>`
    SELECT outcome FROM operation_fences WHERE serial = ${serial} AND operation = ${operation}`;
  return rows[0]?.outcome;
}

/** The recorded outcomes of several operations of one serial, in one round trip. */
export async function readFences<T>(
  tx: Tx | Db,
  serial: string,
  operations: readonly Operation[],
): Promise<Map<Operation, T>> {
  const rows = await tx.$queryRaw<{ operation: Operation; outcome: T }[]>`
    SELECT operation, outcome FROM operation_fences WHERE serial = ${serial} AND operation = ANY(${operations}::text[])`;
  return new Map(rows.map((r) => [r.operation, r.outcome]));
}

/**
 * Records the outcome of (serial, operation) in the same transaction as the change it
 * describes. The primary key makes a second record impossible: a duplicate that slipped
 * past the advisory lock fails here and its whole transaction rolls back.
 */
export async function writeFence(tx: Tx, serial: string, operation: Operation, outcome: unknown): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO operation_fences (serial, operation, outcome)
    VALUES (${serial}, ${operation}, ${JSON.stringify(outcome)}::jsonb)`;
}

/** One ledger row per level change, written in the same transaction as the change. */
export interface Movement {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly reason: string;
  readonly reference: string;
  readonly onHandDelta: number;
  readonly reservedDelta: number;
  /** In transit towards this level (transfers); 0 when absent. */
  readonly incomingDelta?: number;
  /** The lot whose quantity moved with on-hand (lot-tracked products). */
  readonly lotCode?: string | null;
  /** How the level's damaged and quality-control buckets moved; 0 when absent. */
  readonly damagedDelta?: number;
  readonly qualityControlDelta?: number;
}

/** One outbox row per distinct SKU, in the caller's transaction; the relay (data/cache/relay.ts) applies them. */
export async function recordInvalidations(tx: Tx, skus: readonly string[]): Promise<void> {
  const distinct = [...new Set(skus)];
  if (distinct.length === 0) return;
  const touched = touchedByTx.get(tx);
  if (touched) for (const sku of distinct) touched.add(sku);
  await tx.$executeRaw`INSERT INTO cache_outbox (sku) SELECT unnest(${distinct}::text[])`;
}

/**
 * The single choke point of level changes: the ledger rows, and the cache invalidation of
 * every SKU they touch, in the caller's transaction — committed together or not at all, so
 * no process death between commit and Redis can leave the cache showing the old level.
 * Call it after the level updates it describes: each row records the level before and
 * after it, derived from the level as this transaction now sees it minus the deltas of the
 * later rows of the batch (so several rows for one level chain up).
 */
export async function writeMovements(tx: Tx, movements: readonly Movement[]): Promise<void> {
  if (movements.length === 0) return;
  await recordInvalidations(
    tx,
    movements.map((m) => m.sku),
  );

  await tx.$executeRaw`
    INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta, incoming_delta, lot_code,
                                 damaged_delta, quality_control_delta,
                                 on_hand_before, on_hand_after, reserved_before, reserved_after, incoming_before, incoming_after)
    SELECT sku, wh, reason, reference, oh, rs, inc, lot, dmg, qc,
           oh_after - oh, oh_after, rs_after - rs, rs_after, inc_after - inc, inc_after
      FROM (
        SELECT m.*,
               il.on_hand - COALESCE(SUM(m.oh) OVER later, 0) AS oh_after,
               il.reserved - COALESCE(SUM(m.rs) OVER later, 0) AS rs_after,
               il.incoming - COALESCE(SUM(m.inc) OVER later, 0) AS inc_after
          FROM unnest(
            ${movements.map((m) => m.sku)}::text[], ${movements.map((m) => m.warehouseCode)}::text[],
            ${movements.map((m) => m.reason)}::text[], ${movements.map((m) => m.reference)}::text[],
            ${movements.map((m) => m.onHandDelta)}::int[], ${movements.map((m) => m.reservedDelta)}::int[],
            ${movements.map((m) => m.incomingDelta ?? 0)}::int[], ${movements.map((m) => m.lotCode ?? null)}::text[],
            ${movements.map((m) => m.damagedDelta ?? 0)}::int[], ${movements.map((m) => m.qualityControlDelta ?? 0)}::int[]
          ) WITH ORDINALITY AS m(sku, wh, reason, reference, oh, rs, inc, lot, dmg, qc, ord)
          LEFT JOIN inventory_levels il ON il.sku = m.sku AND il.warehouse_code = m.wh
        WINDOW later AS (PARTITION BY m.sku, m.wh ORDER BY m.ord ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING)
      ) x
     ORDER BY ord`;
}

/** Opens a connection of a raw pg pool (the hold pool) ahead of the first order that needs one. */
export async function warmPool(pool: { query(sql: string): Promise<unknown> }): Promise<void> {
  await pool.query('SELECT 1');
}

/** One round trip to PostgreSQL (the readiness probe): resolves once the database answered. */
export async function ping(db: Db): Promise<void> {
  if (db.mariadb) await db.mariadb.query('SELECT 1');
  else await db.$queryRaw`SELECT 1`;
}
