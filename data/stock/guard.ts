/**
 * The second half of the availability guard.
 *
 * Every take of stock is one conditional UPDATE on the level row, `WHERE on_hand - reserved
 * - safety_stock - unsellable_quantity(sku, warehouse_code) >= q`. Under READ COMMITTED,
 * when that UPDATE waits for the row's lock and goes on after the holder commits,
 * PostgreSQL re-checks the WHERE on the new row version, but `unsellable_quantity` reads
 * `stock_lots` with the statement's snapshot, taken before the wait: a lot quarantined by
 * the transaction it waited for still counts as sellable, and the guard passes on stock
 * that is no longer there (10 held where 5 were sellable).
 *
 * So every take is followed, in the same transaction, by `overdrawn`: a new statement, hence
 * a new snapshot, taken while this transaction holds the level rows. Anything that changes
 * a lot's sellability locks (and bumps) its level row first (setLotQuarantine, receipts,
 * adjustments, confirms, transfers), so what that statement sees cannot change before the
 * commit. A level it finds below 0 was taken on a stale view: the caller undoes the take
 * (savepoint) and treats the line as short. The one change that needs no write, a lot
 * passing its removal date, is evaluated at the transaction's now() by both statements.
 */
import type { Tx } from '../db';
import { AVAILABLE } from './level-sql';

/** A level row named by its key. */
export interface LevelKey {
  readonly sku: string;
  readonly warehouseCode: string;
}

/** The levels among `levels` whose available is now below 0 (call it after the takes). */
export async function overdrawn<T extends LevelKey>(tx: Tx, levels: readonly T[]): Promise<T[]> {
  if (levels.length === 0) return [];
  const rows = await tx.$queryRaw<{ sku: string; warehouse_code: string }[]>`
    SELECT sku, warehouse_code FROM inventory_levels
     WHERE (sku, warehouse_code) IN (SELECT * FROM unnest(
             ${levels.map((l) => l.sku)}::text[], ${levels.map((l) => l.warehouseCode)}::text[]))
       AND ${AVAILABLE} < 0`;
  return levels.filter((l) => rows.some((r) => r.sku === l.sku && r.warehouse_code === l.warehouseCode));
}
