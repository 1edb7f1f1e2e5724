/** Database fixtures for tests on the real PostgreSQL. */
import { receiveStock, upsertProduct, upsertWarehouse } from '../../activities/store/catalog';
import { createDb, type Db } from '../../activities/store/db';
import { TEST_DATABASE_URL } from './env';

export function testDb(maxConnections = 20): Db {
  return createDb(TEST_DATABASE_URL, { maxConnections });
}

/** Empties every table (TRUNCATE: the ledger refuses DELETE by design). */
export async function resetDb(db: Db): Promise<void> {
  await db.$executeRawUnsafe(`
    TRUNCATE stock_movements, operation_fences, reservation_lines, reservations, payment_events,
             inventory_levels, products, warehouses, cache_outbox, cache_checks RESTART IDENTITY CASCADE`);
}

/** Creates a product and warehouse as needed and receives `onHand` units. */
export async function stock(db: Db, sku: string, warehouseCode: string, onHand: number): Promise<void> {
  await upsertProduct(db, sku, sku);
  await upsertWarehouse(db, warehouseCode, warehouseCode);
  await receiveStock(db, { idempotencyKey: `fixture-${sku}-${warehouseCode}-${onHand}`, sku, warehouseCode, quantity: onHand, reason: 'fixture' });
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
 * The invariants every test ends with: on-hand and reserved equal the sums of the ledger,
 * reserved equals the sum of active holds, nothing negative. Returns the offending rows.
 */
export async function invariantViolations(db: Db): Promise<unknown[]> {
  return db.$queryRawUnsafe(`
    WITH ledger AS (
      SELECT sku, warehouse_code, SUM(on_hand_delta)::int AS on_hand, SUM(reserved_delta)::int AS reserved
        FROM stock_movements GROUP BY sku, warehouse_code),
    holds AS (
      SELECT l.sku, l.warehouse_code, SUM(l.quantity)::int AS reserved
        FROM reservation_lines l JOIN reservations r ON r.id = l.reservation_id
       WHERE r.status = 'RESERVED' GROUP BY l.sku, l.warehouse_code)
    SELECT il.sku, il.warehouse_code, il.on_hand, il.reserved,
           ledger.on_hand AS ledger_on_hand, ledger.reserved AS ledger_reserved, COALESCE(holds.reserved, 0) AS held
      FROM inventory_levels il
      LEFT JOIN ledger USING (sku, warehouse_code)
      LEFT JOIN holds USING (sku, warehouse_code)
     WHERE il.on_hand IS DISTINCT FROM ledger.on_hand
        OR il.reserved IS DISTINCT FROM ledger.reserved
        OR il.reserved <> COALESCE(holds.reserved, 0)
        OR il.on_hand < 0 OR il.reserved < 0 OR il.reserved > il.on_hand`);
}
