/**
 * The catalogue's lists on MySQL/MariaDB (issue 22): the rows data/stock/catalog-lists.ts pages
 * (GET /admin/products, /admin/warehouses, /admin/levels), in its primary key's byte order
 * (utf8mb4_bin), `limit` rows after the key given. Products and warehouses are plain reads
 * through Prisma's MySQL client; a level's `available` is the guard's formula on the server's
 * clock (lots past their removal date), clamped at 0 as on PostgreSQL: SQL through the driver.
 */
import type { Pool } from 'mariadb';
import type { MysqlPrisma } from './db';
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

export function productRowsOnMariadb(
  prisma: MysqlPrisma,
  take: number,
  afterSku?: string,
): Promise<MariadbProductRow[]> {
  return prisma.product.findMany({
    where: afterSku !== undefined ? { sku: { gt: afterSku } } : {},
    orderBy: { sku: 'asc' },
    take,
  });
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

export function warehouseRowsOnMariadb(
  prisma: MysqlPrisma,
  region: string | undefined,
  take: number,
  afterCode?: string,
): Promise<MariadbWarehouseRow[]> {
  return prisma.warehouse.findMany({
    where: { region, code: afterCode !== undefined ? { gt: afterCode } : undefined },
    orderBy: { code: 'asc' },
    take,
  });
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
