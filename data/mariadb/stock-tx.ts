/**
 * The stock changes' transaction on MySQL/MariaDB (issue 22): data/db.ts `inKeyLockedTx`,
 * `writeMovements` and `recordInvalidations` for InnoDB. One READ COMMITTED transaction under
 * the serial's slot lock (mechanism 1); every level change writes its ledger row (with the
 * actor) and one cache_outbox row per SKU in that same transaction, so no crash or Redis outage
 * between the commit and the cache can leave a stale entry for good; after the commit the
 * process's listener (skusCommitted) drops the entries at once, best effort.
 */
import type { Pool } from 'mariadb';
import { currentActor, skusCommitted, type Db } from '../db';
import { inMariadbTx, lockSerial, type MariadbTx } from './tx';

/** What a stock transaction carries besides its connection: the actor, and the SKUs it changed. */
interface StockTxState {
  readonly actor: string | null;
  readonly touched: Set<string>;
}

/** The open stock transactions; a pooled connection is in here only while its transaction runs. */
const stateOf = new WeakMap<MariadbTx, StockTxState>();

/**
 * Runs `work` in one READ COMMITTED transaction holding `serial`'s slot lock; after the commit
 * the SKUs it invalidated go to `db`'s after-commit listener. `actor` (a key id) wins over the
 * system writer running it (asSystem), as on PostgreSQL.
 */
export async function inMariadbStockTx<T>(
  db: Db,
  pool: Pool,
  serial: string,
  work: (tx: MariadbTx) => Promise<T>,
  actor?: string,
): Promise<T> {
  const state: StockTxState = { actor: currentActor(actor) ?? null, touched: new Set() };
  const result = await inMariadbTx(pool, async (tx) => {
    await lockSerial(tx, serial);
    stateOf.set(tx, state);
    try {
      return await work(tx);
    } finally {
      stateOf.delete(tx);
    }
  });
  await skusCommitted(db, [...state.touched]);
  return result;
}

/** One ledger row for a level change (data/db.ts Movement). */
export interface MariadbMovement {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly reason: string;
  readonly reference: string;
  readonly onHandDelta: number;
  readonly reservedDelta: number;
  readonly lotCode?: string | null;
  readonly incomingDelta?: number;
  readonly damagedDelta?: number;
  readonly qualityControlDelta?: number;
}

/** One cache_outbox row per distinct SKU, in the caller's transaction (the relay applies them). */
export async function recordMariadbInvalidations(tx: MariadbTx, skus: readonly string[]): Promise<void> {
  const distinct = [...new Set(skus)];
  if (distinct.length === 0) return;
  const touched = stateOf.get(tx)?.touched;
  if (touched) for (const sku of distinct) touched.add(sku);
  await tx.batch(
    'INSERT INTO cache_outbox (sku) VALUES (?)',
    distinct.map((s) => [s]),
  );
}

/**
 * The ledger rows and the cache invalidation of a change, after the level updates they
 * describe, with the level row still locked by this transaction: each row's before is its
 * after (the level as this transaction now sees it) less its delta. One row per level per
 * call: several changes to one level are written by separate calls, each after its update.
 * A change that names a level which does not exist (a return written off at a warehouse that
 * never stocked the SKU) still gets its row, with no before/after, as PostgreSQL's LEFT JOIN.
 */
export async function writeMariadbMovements(tx: MariadbTx, movements: readonly MariadbMovement[]): Promise<void> {
  if (movements.length === 0) return;
  await recordMariadbInvalidations(
    tx,
    movements.map((m) => m.sku),
  );
  const actor = stateOf.get(tx)?.actor ?? null;
  for (const m of movements) {
    const oh = m.onHandDelta;
    const rs = m.reservedDelta;
    const inc = m.incomingDelta ?? 0;
    await tx.query(
      `INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta, incoming_delta,
                                    lot_code, damaged_delta, quality_control_delta, actor,
                                    on_hand_before, on_hand_after, reserved_before, reserved_after, incoming_before, incoming_after)
       SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
              il.on_hand - ?, il.on_hand, il.reserved - ?, il.reserved, il.incoming - ?, il.incoming
         FROM (SELECT 1 AS one) d
         LEFT JOIN inventory_levels il ON il.sku = ? AND il.warehouse_code = ?`,
      [
        m.sku,
        m.warehouseCode,
        m.reason,
        m.reference,
        oh,
        rs,
        inc,
        m.lotCode ?? null,
        m.damagedDelta ?? 0,
        m.qualityControlDelta ?? 0,
        actor,
        oh,
        rs,
        inc,
        m.sku,
        m.warehouseCode,
      ],
    );
  }
}
