/**
 * The catalogue's lists on MySQL/MariaDB (issue 22): the rows data/stock/catalog-lists.ts pages
 * (GET /admin/products, /admin/warehouses, /admin/levels), in its primary key's byte order
 * (utf8mb4_bin), `limit` rows after the key given. A level's `available` is the guard's
 * formula, clamped at 0 as on PostgreSQL.
 */
import type { Pool } from 'mariadb';
import { AVAILABLE_SQL } from './inventory-view';

/** A product row as Prisma's model has it. */
export interface MariadbProductRow {
  readonly sku: string;
  readonly name: string;
  readonly lotTracked: boolean;
  readonly alertDaysBeforeExpiry: number | null;
  readonly removalDaysBeforeExpiry: number | null;
  readonly createdAt: Date;
}

export async function productRowsOnMariadb(pool: Pool, take: number, afterSku?: string): Promise<MariadbProductRow[]> {
  const rows = await pool.query<(Omit<MariadbProductRow, 'lotTracked'> & { lotTracked: number | boolean })[]>(
    `SELECT sku, name, lot_tracked AS lotTracked, alert_days_before_expiry AS alertDaysBeforeExpiry,
            removal_days_before_expiry AS removalDaysBeforeExpiry, created_at AS createdAt
       FROM products ${afterSku !== undefined ? 'WHERE sku > ?' : ''} ORDER BY sku LIMIT ?`,
    afterSku !== undefined ? [afterSku, take] : [take],
  );
  return rows.map((r) => ({ ...r, lotTracked: Boolean(r.lotTracked) }));
}

/** A warehouse row as Prisma's model has it. */
export interface MariadbWarehouseRow {
  readonly code: string;
  readonly name: string;
  readonly region: string;
  readonly priority: number;
  readonly latitude: number | null;
  readonly longitude: number | null;
  readonly createdAt: Date;
}

export async function warehouseRowsOnMariadb(
  pool: Pool,
  region: string | undefined,
  take: number,
  afterCode?: string,
): Promise<MariadbWarehouseRow[]> {
  const where: string[] = ['TRUE'];
  const args: unknown[] = [];
  if (region !== undefined) {
    where.push('region = ?');
    args.push(region);
  }
  if (afterCode !== undefined) {
    where.push('code > ?');
    args.push(afterCode);
  }
  return pool.query<MariadbWarehouseRow[]>(
    `SELECT code, name, region, priority, latitude, longitude, created_at AS createdAt FROM warehouses
      WHERE ${where.join(' AND ')} ORDER BY code LIMIT ?`,
    [...args, take],
  );
}

/** A level row as data/stock/catalog-lists.ts reads it from PostgreSQL. */
export interface MariadbLevelRow {
  readonly sku: string;
  readonly warehouse_code: string;
  readonly on_hand: number;
  readonly reserved: number;
  readonly safety_stock: number;
  readonly incoming: number;
  readonly damaged: number;
  readonly quality_control: number;
  readonly available: number;
  readonly version: bigint;
  readonly updated_at: Date;
}

export async function levelRowsOnMariadb(
  pool: Pool,
  f: { readonly sku?: string; readonly warehouseCode?: string },
  take: number,
  after?: readonly [string, string],
): Promise<MariadbLevelRow[]> {
  const where: string[] = ['TRUE'];
  const args: unknown[] = [];
  const add = (condition: string, ...values: unknown[]) => {
    where.push(condition);
    args.push(...values);
  };
  if (f.sku) add('il.sku = ?', f.sku);
  if (f.warehouseCode) add('il.warehouse_code = ?', f.warehouseCode);
  if (after) add('(il.sku, il.warehouse_code) > (?, ?)', after[0], after[1]);
  const rows = await pool.query<
    (Omit<MariadbLevelRow, 'version' | 'available'> & { version: number; available: number })[]
  >(
    `SELECT il.sku, il.warehouse_code, il.on_hand, il.reserved, il.safety_stock, il.incoming, il.damaged, il.quality_control,
            CAST(GREATEST(0, ${AVAILABLE_SQL}) AS SIGNED) AS available, il.version, il.updated_at
       FROM inventory_levels il WHERE ${where.join(' AND ')}
      ORDER BY il.sku, il.warehouse_code LIMIT ?`,
    [...args, take],
  );
  return rows.map((r) => ({ ...r, available: Number(r.available), version: BigInt(r.version) }));
}
