/**
 * Database access: the Prisma client (driver adapter over node-postgres) and the
 * transaction + fence helpers every stock change goes through.
 */
import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../../generated/prisma/client';
import type { Operation } from '../../domain/types';
import { stockCommitted } from '../cache/commit-hook';
import { recordInvalidations } from '../cache/outbox';

export type Db = PrismaClient;
/** The transaction client Prisma hands to an interactive transaction. */
export type Tx = Parameters<Parameters<Db['$transaction']>[0]>[0];

/** Connection-pool settings; see README "Settings". */
export interface DbOptions {
  readonly maxConnections?: number;
}

export function createDb(databaseUrl: string, options: DbOptions = {}): Db {
  const adapter = new PrismaPg({
    connectionString: databaseUrl,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 5_000,
  });
  return new PrismaClient({ adapter });
}

/**
 * Runs `work` in one READ COMMITTED transaction, serialised per business serial.
 *
 * The advisory lock makes reserve/confirm/release of one serial strictly sequential, so
 * "release before reserve" and "confirm twice" are decided on a consistent view. The short
 * lock_timeout turns a stuck row lock into a fast, retryable failure (the incident's ghost
 * holds came from releases that waited, failed, and were never retried).
 */
export async function inSerialTx<T>(db: Db, serial: string, work: (tx: Tx) => Promise<T>): Promise<T> {
  let committed: Tx | undefined;
  const result = await db.$transaction(
    async (tx) => {
      committed = tx;
      await tx.$executeRaw`SELECT set_config('lock_timeout', '3s', true)`;
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${serial}, 0))`;
      return work(tx);
    },
    { isolationLevel: 'ReadCommitted', maxWait: 10_000, timeout: 30_000 },
  );
  // After the commit, never inside it: drop the cache entries the change made stale.
  await stockCommitted(db, committed);
  return result;
}

/** The first recorded outcome of (serial, operation), if any. */
export async function readFence<T>(tx: Tx, serial: string, operation: Operation): Promise<T | undefined> {
  const rows = await tx.$queryRaw<{ outcome: T }[]>`
    SELECT outcome FROM operation_fences WHERE serial = ${serial} AND operation = ${operation}`;
  return rows[0]?.outcome;
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
}

/**
 * The single choke point of level changes: the ledger rows, and the cache invalidation of
 * every SKU they touch, in the caller's transaction. Committed together or not at all, so
 * no process death between commit and Redis can leave the cache showing the old level.
 */
export async function writeMovements(tx: Tx, movements: readonly Movement[]): Promise<void> {
  if (movements.length === 0) return;
  await recordInvalidations(tx, movements.map((m) => m.sku));
  await tx.$executeRaw`
    INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta)
    SELECT * FROM unnest(
      ${movements.map((m) => m.sku)}::text[], ${movements.map((m) => m.warehouseCode)}::text[],
      ${movements.map((m) => m.reason)}::text[], ${movements.map((m) => m.reference)}::text[],
      ${movements.map((m) => m.onHandDelta)}::int[], ${movements.map((m) => m.reservedDelta)}::int[])`;
}
