/**
 * What exists, as lists (GET /admin/products, /admin/warehouses, /admin/levels), each one
 * keyset page at a time (domain/cursor.ts) in its primary key's order.
 */
import { Prisma } from '../../generated/prisma/client';
import { toPage, type KeyPart, type KeyValue, type Page } from '../../domain/cursor';
import type { Db } from '../db';
import { AVAILABLE } from './level-sql';
import { mariadbOf, mysqlPrismaOf } from '../mariadb/db';
import { levelRowsOnMariadb, productRowsOnMariadb, warehouseRowsOnMariadb } from '../mariadb/catalog-lists';

export const PRODUCTS_LIST = 'products';
export const PRODUCTS_KEY: readonly KeyPart[] = ['text'];
export const WAREHOUSES_LIST = 'warehouses';
export const WAREHOUSES_KEY: readonly KeyPart[] = ['text'];
export const LEVELS_LIST = 'levels';
export const LEVELS_KEY: readonly KeyPart[] = ['text', 'text'];

export interface ProductRow {
  readonly sku: string;
  readonly name: string;
  readonly lotTracked: boolean;
  readonly alertDaysBeforeExpiry: number | null;
  readonly removalDaysBeforeExpiry: number | null;
  readonly createdAt: string;
}

export interface WarehouseRow {
  readonly code: string;
  readonly name: string;
  readonly region: string;
  readonly priority: number;
  readonly latitude: number | null;
  readonly longitude: number | null;
  readonly createdAt: string;
}

export interface LevelRow {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly onHand: number;
  readonly reserved: number;
  readonly safetyStock: number;
  readonly incoming: number;
  /** On hand but not sellable: set aside as damaged, or held for quality control. */
  readonly damaged: number;
  readonly qualityControl: number;
  /** What may still be promised (the one availability formula, stockhold_available). */
  readonly available: number;
  readonly version: string;
  readonly updatedAt: string;
}

/** Products by SKU. */
export async function listProducts(db: Db, limit: number, after?: KeyValue[]): Promise<Page<ProductRow>> {
  const maria = mysqlPrismaOf(db);
  const rows = maria
    ? await productRowsOnMariadb(maria, limit + 1, after ? String(after[0]) : undefined)
    : await db.product.findMany({
        where: after ? { sku: { gt: String(after[0]) } } : {},
        orderBy: { sku: 'asc' },
        take: limit + 1,
      });
  return toPage(
    PRODUCTS_LIST,
    rows,
    limit,
    (p) => [p.sku],
    (p) => ({
      sku: p.sku,
      name: p.name,
      lotTracked: p.lotTracked,
      alertDaysBeforeExpiry: p.alertDaysBeforeExpiry,
      removalDaysBeforeExpiry: p.removalDaysBeforeExpiry,
      createdAt: p.createdAt.toISOString(),
    }),
  );
}

/** Warehouses by code (optionally of one region). */
export async function listWarehouses(
  db: Db,
  f: { region?: string },
  limit: number,
  after?: KeyValue[],
): Promise<Page<WarehouseRow>> {
  const maria = mysqlPrismaOf(db);
  const rows = maria
    ? await warehouseRowsOnMariadb(maria, f.region, limit + 1, after ? String(after[0]) : undefined)
    : await db.warehouse.findMany({
        where: { region: f.region, code: after ? { gt: String(after[0]) } : undefined },
        orderBy: { code: 'asc' },
        take: limit + 1,
      });
  return toPage(
    WAREHOUSES_LIST,
    rows,
    limit,
    (w) => [w.code],
    (w) => ({
      code: w.code,
      name: w.name,
      region: w.region,
      priority: w.priority,
      latitude: w.latitude,
      longitude: w.longitude,
      createdAt: w.createdAt.toISOString(),
    }),
  );
}

interface StoredLevel {
  sku: string;
  warehouse_code: string;
  on_hand: number;
  reserved: number;
  safety_stock: number;
  incoming: number;
  damaged: number;
  quality_control: number;
  available: number;
  version: bigint;
  updated_at: Date;
}

/** Stock levels by SKU then warehouse (optionally of one SKU or warehouse). */
export async function listLevels(
  db: Db,
  f: { sku?: string; warehouseCode?: string },
  limit: number,
  after?: KeyValue[],
): Promise<Page<LevelRow>> {
  const maria = mariadbOf(db);
  if (maria) {
    const key = after ? ([String(after[0]), String(after[1])] as const) : undefined;
    return levelPage(await levelRowsOnMariadb(maria, f, limit + 1, key), limit);
  }
  const c: Prisma.Sql[] = [Prisma.sql`TRUE`];
  if (f.sku) c.push(Prisma.sql`sku = ${f.sku}`);
  if (f.warehouseCode) c.push(Prisma.sql`warehouse_code = ${f.warehouseCode}`);
  if (after) c.push(Prisma.sql`(sku, warehouse_code) > (${String(after[0])}, ${String(after[1])})`);
  const rows = await db.$queryRaw<StoredLevel[]>`
    SELECT sku, warehouse_code, on_hand, reserved, safety_stock, incoming, damaged, quality_control,
           GREATEST(0, ${AVAILABLE})::int AS available, version, updated_at
      FROM inventory_levels
     WHERE ${Prisma.join(c, ' AND ')}
     ORDER BY sku, warehouse_code
     LIMIT ${limit + 1}`;
  return levelPage(rows, limit);
}

/** A page of levels from their stored rows, whichever store read them. */
function levelPage(rows: readonly StoredLevel[], limit: number): Page<LevelRow> {
  return toPage(
    LEVELS_LIST,
    rows,
    limit,
    (l) => [l.sku, l.warehouse_code],
    (l) => ({
      sku: l.sku,
      warehouseCode: l.warehouse_code,
      onHand: l.on_hand,
      reserved: l.reserved,
      safetyStock: l.safety_stock,
      incoming: l.incoming,
      damaged: l.damaged,
      qualityControl: l.quality_control,
      available: l.available,
      version: l.version.toString(),
      updatedAt: l.updated_at.toISOString(),
    }),
  );
}
