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
             inventory_levels, products, warehouses RESTART IDENTITY CASCADE`);
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

export { invariantViolations } from '../../activities/store/invariants';
