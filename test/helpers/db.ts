/** Database fixtures for tests on the real PostgreSQL. */
import { upsertProduct, upsertWarehouse } from '../../activities/store/catalog';
import { receiveStock } from '../../activities/store/stock-admin';
import { createDb, type Db } from '../../activities/store/db';
import { TEST_DATABASE_URL } from './env';

export function testDb(maxConnections = 20): Db {
  return createDb(TEST_DATABASE_URL, { maxConnections });
}

/** Empties every table (TRUNCATE: the ledger refuses DELETE by design). */
export async function resetDb(db: Db): Promise<void> {
  await db.$executeRawUnsafe(`
    TRUNCATE stock_movements, stock_lots, stock_alerts, transfers, reconciliation_runs, operation_fences, reservation_lines, reservations, payment_events,
             inventory_levels, products, warehouses RESTART IDENTITY CASCADE`);
}

/** Creates a product and warehouse as needed and receives `onHand` units. */
export async function stock(db: Db, sku: string, warehouseCode: string, onHand: number): Promise<void> {
  await upsertProduct(db, sku, sku);
  await upsertWarehouse(db, warehouseCode, warehouseCode);
  await receiveStock(db, { idempotencyKey: `fixture-${sku}-${warehouseCode}-${onHand}`, sku, warehouseCode, quantity: onHand, reason: 'fixture' });
}

/** A lot-tracked product that alerts `alertDays` and is removed `removalDays` before use-by. */
export async function perishable(db: Db, sku: string, alertDays = 3, removalDays = 1): Promise<void> {
  await upsertProduct(db, sku, sku, { lotTracked: true, alertDaysBeforeExpiry: alertDays, removalDaysBeforeExpiry: removalDays });
}

const DAY_MS = 24 * 3600 * 1000;

/** Receives `quantity` into a lot whose use-by date is `days` from now (fractions allowed). */
export async function receiveLot(db: Db, sku: string, warehouseCode: string, lotCode: string, quantity: number, days: number) {
  await upsertWarehouse(db, warehouseCode, warehouseCode);
  const expiresAt = new Date(Date.now() + days * DAY_MS).toISOString();
  return receiveStock(db, { idempotencyKey: `lot-${sku}-${warehouseCode}-${lotCode}-${quantity}`, sku, warehouseCode, lotCode, expiresAt, quantity, reason: 'fixture' });
}

export interface LevelRow {
  onHand: number;
  reserved: number;
}

export async function level(db: Db, sku: string, warehouseCode: string): Promise<LevelRow> {
  const l = await db.inventoryLevel.findUniqueOrThrow({ where: { sku_warehouseCode: { sku, warehouseCode } } });
  return { onHand: l.onHand, reserved: l.reserved };
}

/**
 * The invariants every test ends with: on-hand, reserved and incoming equal the sums of the
 * ledger, reserved equals the sum of active holds, nothing negative; for lot-tracked SKUs
 * the lots sum to on-hand and each lot equals the sum of its ledger rows. Returns the
 * offending rows.
 */
export async function invariantViolations(db: Db): Promise<unknown[]> {
  const levels = await db.$queryRawUnsafe<unknown[]>(`
    WITH ledger AS (
      SELECT sku, warehouse_code, SUM(on_hand_delta)::int AS on_hand, SUM(reserved_delta)::int AS reserved,
             SUM(incoming_delta)::int AS incoming
        FROM stock_movements GROUP BY sku, warehouse_code),
    holds AS (
      SELECT l.sku, l.warehouse_code, SUM(l.quantity)::int AS reserved
        FROM reservation_lines l JOIN reservations r ON r.id = l.reservation_id
       WHERE r.status = 'RESERVED' GROUP BY l.sku, l.warehouse_code),
    lots AS (
      SELECT sku, warehouse_code, SUM(quantity)::int AS quantity FROM stock_lots GROUP BY sku, warehouse_code)
    SELECT il.sku, il.warehouse_code, il.on_hand, il.reserved, il.incoming,
           ledger.on_hand AS ledger_on_hand, ledger.reserved AS ledger_reserved, ledger.incoming AS ledger_incoming,
           COALESCE(holds.reserved, 0) AS held, lots.quantity AS in_lots
      FROM inventory_levels il
      JOIN products p USING (sku)
      LEFT JOIN ledger USING (sku, warehouse_code)
      LEFT JOIN holds USING (sku, warehouse_code)
      LEFT JOIN lots USING (sku, warehouse_code)
     WHERE il.on_hand IS DISTINCT FROM ledger.on_hand
        OR il.reserved IS DISTINCT FROM ledger.reserved
        OR il.incoming IS DISTINCT FROM ledger.incoming
        OR il.reserved <> COALESCE(holds.reserved, 0)
        OR (p.lot_tracked AND il.on_hand <> COALESCE(lots.quantity, 0))
        OR il.on_hand < 0 OR il.reserved < 0 OR il.incoming < 0 OR il.reserved > il.on_hand`);
  const lots = await db.$queryRawUnsafe<unknown[]>(`
    SELECT l.sku, l.warehouse_code, l.lot_code, l.quantity, m.quantity AS ledger_quantity
      FROM stock_lots l
      LEFT JOIN (SELECT sku, warehouse_code, lot_code, SUM(on_hand_delta)::int AS quantity
                   FROM stock_movements WHERE lot_code IS NOT NULL GROUP BY 1, 2, 3) m USING (sku, warehouse_code, lot_code)
     WHERE l.quantity IS DISTINCT FROM m.quantity OR l.quantity < 0`);
  return [...levels, ...lots];
}
