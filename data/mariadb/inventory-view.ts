/**
 * The inventory read model's rows on MySQL/MariaDB (issue 22): what data/stock/inventory-view.ts
 * shapes into GET /inventory/:sku, read with the same definitions as PostgreSQL's (unsellable
 * lots: quarantined, or at or past their removal date, at the statement's time).
 */
import type { Pool, PoolConnection } from 'mariadb';

/** A level's availability as the hold guard computes it (PostgreSQL's stockhold_available); `il` is the level. */
export const AVAILABLE_SQL = `il.on_hand - il.reserved - il.safety_stock - il.damaged - il.quality_control
  - (SELECT COALESCE(SUM(l.quantity), 0) FROM stock_lots l
      WHERE l.sku = il.sku AND l.warehouse_code = il.warehouse_code AND l.quantity > 0
        AND (l.quarantined OR l.remove_at <= UTC_TIMESTAMP(3)))`;

/** A level row as data/stock/inventory-view.ts reads it from PostgreSQL. */
export interface InventoryLevelRow {
  readonly warehouse_code: string;
  readonly on_hand: number;
  readonly reserved: number;
  readonly safety_stock: number;
  readonly damaged: number;
  readonly quality_control: number;
  readonly incoming: number;
  readonly unsellable: number;
  readonly now: Date;
}

/** A lot as Prisma's model has it (the fields the view reads). */
export interface InventoryLotRow {
  readonly warehouseCode: string;
  readonly lotCode: string;
  readonly quantity: number;
  readonly receivedAt: Date;
  readonly expiresAt: Date | null;
  readonly alertAt: Date | null;
  readonly removeAt: Date | null;
  readonly quarantined: boolean;
  readonly quarantineReason: string | null;
}

/** Everything the view of one SKU is made from. */
export interface InventoryRows {
  readonly product: { readonly sku: string; readonly name: string; readonly lotTracked: boolean };
  readonly levels: InventoryLevelRow[];
  readonly lots: InventoryLotRow[];
}

/**
 * The product, its levels (by warehouse) and its lots (first-expiring first; no date last, as
 * PostgreSQL's ascending order puts NULLs), or undefined for an unknown SKU. Pass a connection
 * inside a transaction to read them in one snapshot.
 */
export async function inventoryRowsOnMariadb(
  conn: Pool | PoolConnection,
  sku: string,
): Promise<InventoryRows | undefined> {
  const [product] = await conn.query<{ sku: string; name: string; lot_tracked: number | boolean }[]>(
    'SELECT sku, name, lot_tracked FROM products WHERE sku = ?',
    [sku],
  );
  if (!product) return undefined;
  const levels = await conn.query<InventoryLevelRow[]>(
    `SELECT il.warehouse_code, il.on_hand, il.reserved, il.safety_stock, il.damaged, il.quality_control, il.incoming,
            il.on_hand - il.reserved - il.safety_stock - il.damaged - il.quality_control - (${AVAILABLE_SQL}) AS unsellable,
            UTC_TIMESTAMP(3) AS now
       FROM inventory_levels il WHERE il.sku = ? ORDER BY il.warehouse_code`,
    [sku],
  );
  const lots = await conn.query<(Omit<InventoryLotRow, 'quarantined'> & { quarantined: number | boolean })[]>(
    `SELECT warehouse_code AS warehouseCode, lot_code AS lotCode, quantity, received_at AS receivedAt,
            expires_at AS expiresAt, alert_at AS alertAt, remove_at AS removeAt, quarantined,
            quarantine_reason AS quarantineReason
       FROM stock_lots WHERE sku = ? ORDER BY expires_at IS NULL, expires_at, lot_code`,
    [sku],
  );
  return {
    product: { sku: product.sku, name: product.name, lotTracked: Boolean(product.lot_tracked) },
    levels: levels.map((l) => ({ ...l, unsellable: Number(l.unsellable) })),
    lots: lots.map((l) => ({ ...l, quarantined: Boolean(l.quarantined) })),
  };
}
