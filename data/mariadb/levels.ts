/**
 * What every MariaDB statement on `inventory_levels` shares (issue 22, docs/mysql.md): the
 * availability expression (PostgreSQL's stockhold_available) and the ledger row of a change.
 */
import type { OrderLine } from '../../domain/types';
import type { MariadbTx } from './tx';

/**
 * A level's availability, the level aliased `il`: on hand less held, safety stock, set aside
 * and unsellable lots (PostgreSQL's stockhold_available). A DECIMAL (the lots' SUM): the
 * driver hands it over as text, so read it through Number().
 */
export const AVAILABLE = `il.on_hand - il.reserved - il.safety_stock - il.damaged - il.quality_control
  - (SELECT COALESCE(SUM(l.quantity), 0) FROM stock_lots l
      WHERE l.sku = il.sku AND l.warehouse_code = il.warehouse_code AND l.quantity > 0
        AND (l.quarantined OR l.remove_at <= UTC_TIMESTAMP(3)))`;

/**
 * One ledger row for a level this transaction just changed (and holds locked): before =
 * after − delta, read from the row as the transaction's own UPDATE left it (mechanism 5).
 * `line.lotCode`: the lot the units moved with (lot-tracked stock).
 * `actor`: the key id or `system:<writer>` of the change (PostgreSQL's `stockhold.actor`
 * setting), NULL when none.
 */
export async function writeMovement(
  tx: MariadbTx,
  reference: string,
  reason: string,
  line: OrderLine & { readonly lotCode?: string },
  onHandDelta: number,
  reservedDelta: number,
  actor?: string,
): Promise<void> {
  await tx.query(
    `INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta,
                                  on_hand_before, on_hand_after, reserved_before, reserved_after, incoming_before, incoming_after,
                                  actor, lot_code)
     SELECT sku, warehouse_code, ?, ?, ?, ?, on_hand - ?, on_hand, reserved - ?, reserved, incoming, incoming, ?, ?
       FROM inventory_levels WHERE sku = ? AND warehouse_code = ?`,
    [
      reason,
      reference,
      onHandDelta,
      reservedDelta,
      onHandDelta,
      reservedDelta,
      actor ?? null,
      line.lotCode ?? null,
      line.sku,
      line.warehouseCode,
    ],
  );
}

/** One cache outbox row per distinct SKU, in the caller's transaction (the relay drops them from Redis). */
export async function recordInvalidations(tx: MariadbTx, skus: readonly string[]): Promise<void> {
  const distinct = [...new Set(skus)];
  if (distinct.length > 0)
    await tx.batch(
      'INSERT INTO cache_outbox (sku) VALUES (?)',
      distinct.map((s) => [s]),
    );
}
