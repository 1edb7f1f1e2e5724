/**
 * The catalogue on MySQL/MariaDB (issue 22): data/stock/catalog.ts's upserts with the same
 * rules and answers. A product is changed under its serial's slot lock (`product:<sku>`), so
 * the lot-tracking rule is decided on a view no other product change can alter meanwhile; a
 * rename writes its cache_outbox row in the same transaction (PostgreSQL's trigger does it
 * there): the name is part of the cached availability. And `assertCatalogued`'s 404s, on a pool
 * or inside a caller's transaction.
 */
import type { Pool, PoolConnection } from 'mariadb';
import { DomainError, ErrorCode } from '../../domain/errors';
import type { Db } from '../db';
import { inMariadbStockTx, recordMariadbInvalidations } from './stock-tx';
import type { MariadbTx } from './tx';

/** A product as PostgreSQL's upsert returns it (Prisma's model). */
export interface MariadbProduct {
  readonly sku: string;
  readonly name: string;
  readonly createdAt: Date;
  readonly lotTracked: boolean;
  readonly alertDaysBeforeExpiry: number | null;
  readonly removalDaysBeforeExpiry: number | null;
}

/** Perishable settings; omitted fields keep their value. */
interface Settings {
  readonly lotTracked?: boolean;
  readonly alertDaysBeforeExpiry?: number | null;
  readonly removalDaysBeforeExpiry?: number | null;
}

const PRODUCT_COLUMNS = {
  lotTracked: 'lot_tracked',
  alertDaysBeforeExpiry: 'alert_days_before_expiry',
  removalDaysBeforeExpiry: 'removal_days_before_expiry',
} as const;

/** The product row, read under this transaction's view; undefined when there is none. */
export async function productOnMariadb(tx: MariadbTx | Pool, sku: string): Promise<MariadbProduct | undefined> {
  const [row] = await tx.query<
    {
      sku: string;
      name: string;
      created_at: Date;
      lot_tracked: number | boolean;
      alert_days_before_expiry: number | null;
      removal_days_before_expiry: number | null;
    }[]
  >('SELECT * FROM products WHERE sku = ?', [sku]);
  if (!row) return undefined;
  return {
    sku: row.sku,
    name: row.name,
    createdAt: row.created_at,
    lotTracked: Boolean(row.lot_tracked),
    alertDaysBeforeExpiry: row.alert_days_before_expiry,
    removalDaysBeforeExpiry: row.removal_days_before_expiry,
  };
}

/** data/stock/catalog.ts upsertProduct on MariaDB: same refusals (VALIDATION_FAILED, LOT_TRACKING_LOCKED). */
export async function upsertProductOnMariadb(
  db: Db,
  pool: Pool,
  sku: string,
  name: string,
  settings: Settings,
): Promise<MariadbProduct> {
  return inMariadbStockTx(db, pool, `product:${sku}`, async (tx) => {
    const current = await productOnMariadb(tx, sku);
    const alert =
      settings.alertDaysBeforeExpiry !== undefined ? settings.alertDaysBeforeExpiry : current?.alertDaysBeforeExpiry;
    const removal =
      settings.removalDaysBeforeExpiry !== undefined
        ? settings.removalDaysBeforeExpiry
        : current?.removalDaysBeforeExpiry;
    if ((removal ?? 0) > (alert ?? 0)) {
      throw new DomainError(
        ErrorCode.VALIDATION_FAILED,
        'removalDaysBeforeExpiry must not exceed alertDaysBeforeExpiry: a lot would leave sale before its near-expiry alert',
        { alertDaysBeforeExpiry: alert ?? null, removalDaysBeforeExpiry: removal ?? null },
      );
    }
    if (current && settings.lotTracked !== undefined && settings.lotTracked !== current.lotTracked) {
      // A locking read: a receipt committing meanwhile into this SKU is waited for, not missed.
      const [{ stocked }] = await tx.query<{ stocked: number }[]>(
        'SELECT COUNT(*) AS stocked FROM inventory_levels WHERE sku = ? AND on_hand > 0 FOR UPDATE',
        [sku],
      );
      if (Number(stocked) > 0)
        throw new DomainError(ErrorCode.LOT_TRACKING_LOCKED, `${sku} has stock; lot tracking cannot change now`);
    }
    const given = (Object.keys(PRODUCT_COLUMNS) as (keyof Settings)[]).filter((k) => settings[k] !== undefined);
    const columns = given.map((k) => PRODUCT_COLUMNS[k]);
    const values = given.map((k) => settings[k] ?? null);
    await tx.query(
      `INSERT INTO products (sku, name${columns.map((c) => `, ${c}`).join('')})
       VALUES (?, ?${columns.map(() => ', ?').join('')})
       ON DUPLICATE KEY UPDATE name = ?${columns.map((c) => `, ${c} = ?`).join('')}`,
      [sku, name, ...values, name, ...values],
    );
    if (current && current.name !== name) await recordMariadbInvalidations(tx, [sku]);
    return (await productOnMariadb(tx, sku))!;
  });
}

/** A warehouse as PostgreSQL's upsert returns it. */
export interface MariadbWarehouse {
  readonly code: string;
  readonly name: string;
  readonly region: string;
  readonly priority: number;
  readonly latitude: number | null;
  readonly longitude: number | null;
}

interface Placement {
  readonly region?: string;
  readonly priority?: number;
  readonly latitude?: number | null;
  readonly longitude?: number | null;
}

/** data/stock/catalog.ts upsertWarehouse on MariaDB: one statement, omitted placement keeps its value. */
export async function upsertWarehouseOnMariadb(
  pool: Pool,
  code: string,
  name: string,
  placement: Placement,
): Promise<MariadbWarehouse> {
  const given = (['region', 'priority', 'latitude', 'longitude'] as const).filter((k) => placement[k] !== undefined);
  const values = given.map((k) => placement[k] ?? null);
  await pool.query(
    `INSERT INTO warehouses (code, name${given.map((c) => `, ${c}`).join('')})
     VALUES (?, ?${given.map(() => ', ?').join('')})
     ON DUPLICATE KEY UPDATE name = ?${given.map((c) => `, ${c} = ?`).join('')}`,
    [code, name, ...values, name, ...values],
  );
  const [row] = await pool.query<MariadbWarehouse[]>(
    'SELECT code, name, region, priority, latitude, longitude FROM warehouses WHERE code = ?',
    [code],
  );
  return { ...row };
}

/** Whether any product exists (the seed's "empty database" test). */
export async function hasProductsOnMariadb(pool: Pool): Promise<boolean> {
  return (await pool.query<unknown[]>('SELECT 1 FROM products LIMIT 1')).length > 0;
}

/** Whether a lot exists. */
export async function lotExistsOnMariadb(
  pool: Pool,
  key: { readonly sku: string; readonly warehouseCode: string; readonly lotCode: string },
): Promise<boolean> {
  const rows = await pool.query<unknown[]>(
    'SELECT 1 FROM stock_lots WHERE sku = ? AND warehouse_code = ? AND lot_code = ?',
    [key.sku, key.warehouseCode, key.lotCode],
  );
  return rows.length > 0;
}

/**
 * Fails 404 (UNKNOWN_PRODUCT, then UNKNOWN_WAREHOUSE) when a SKU or warehouse named does not
 * exist, as PostgreSQL's assertCatalogued does: asked only once a request was refused (or for a
 * warehouse nothing else checks), so the hot path never pays for it.
 */
export async function assertCataloguedOnMariadb(
  db: Pool | PoolConnection,
  skus: readonly string[],
  warehouses: readonly string[],
): Promise<void> {
  const wanted = { skus: [...new Set(skus)], codes: [...new Set(warehouses)] };
  // `IN (?)` with an empty list is not SQL: a name no row has stands in for it.
  const none = ['\u0000'];
  const found = await db.query<{ kind: string; id: string }[]>(
    `SELECT 'sku' AS kind, sku AS id FROM products WHERE sku IN (?)
     UNION ALL SELECT 'warehouse', code FROM warehouses WHERE code IN (?)`,
    [wanted.skus.length ? wanted.skus : none, wanted.codes.length ? wanted.codes : none],
  );
  const known = new Set(found.map((r) => `${r.kind}\u0000${r.id}`));
  const sku = wanted.skus.find((s) => !known.has(`sku\u0000${s}`));
  if (sku !== undefined) throw new DomainError(ErrorCode.UNKNOWN_PRODUCT, `no product ${sku}`, { sku });
  const code = wanted.codes.find((c) => !known.has(`warehouse\u0000${c}`));
  if (code !== undefined)
    throw new DomainError(ErrorCode.UNKNOWN_WAREHOUSE, `no warehouse ${code}`, { warehouseCode: code });
}
