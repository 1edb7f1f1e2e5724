/** Catalogue: products (with perishable settings) and warehouses (with their placement). */
import { DomainError, ErrorCode } from '../../domain/errors';
import { inKeyLockedTx, type Db, type Tx } from '../db';
import { mariadbOf } from '../mariadb/db';
import { assertCataloguedOnMariadb, upsertProductOnMariadb, upsertWarehouseOnMariadb } from '../mariadb/catalog';

/**
 * Fails 404 (UNKNOWN_PRODUCT, then UNKNOWN_WAREHOUSE) when a SKU or warehouse named does not
 * exist. Callers ask only once a request was refused (or names a warehouse nothing else
 * checks), so the hot path never pays for it.
 */
export async function assertCatalogued(
  db: Db | Tx,
  skus: readonly string[],
  warehouses: readonly string[],
): Promise<void> {
  const maria = mariadbOf(db as Db);
  if (maria) return assertCataloguedOnMariadb(maria, skus, warehouses);
  const wanted = { skus: [...new Set(skus)], codes: [...new Set(warehouses)] };
  const found = await db.$queryRaw<{ kind: string; id: string }[]>`
    SELECT 'sku' AS kind, sku AS id FROM products WHERE sku = ANY(${wanted.skus}::text[])
    UNION ALL SELECT 'warehouse', code FROM warehouses WHERE code = ANY(${wanted.codes}::text[])`;
  const known = new Set(found.map((r) => `${r.kind}\u0000${r.id}`));
  const sku = wanted.skus.find((s) => !known.has(`sku\u0000${s}`));
  if (sku !== undefined) throw new DomainError(ErrorCode.UNKNOWN_PRODUCT, `no product ${sku}`, { sku });
  const code = wanted.codes.find((c) => !known.has(`warehouse\u0000${c}`));
  if (code !== undefined)
    throw new DomainError(ErrorCode.UNKNOWN_WAREHOUSE, `no warehouse ${code}`, { warehouseCode: code });
}

/** Perishable settings of a product; omitted fields keep their value (or the default). */
export interface ProductSettings {
  readonly lotTracked?: boolean;
  readonly alertDaysBeforeExpiry?: number | null;
  readonly removalDaysBeforeExpiry?: number | null;
}

/**
 * Creates or updates a product; the same call twice leaves one product. Lot tracking cannot
 * be switched while the product has stock: its lots would no longer sum to its on-hand.
 */
export async function upsertProduct(db: Db, sku: string, name: string, settings: ProductSettings = {}) {
  const maria = mariadbOf(db);
  if (maria) return upsertProductOnMariadb(db, maria, sku, name, settings);
  return inKeyLockedTx(db, `product:${sku}`, async (tx) => {
    const current = await tx.product.findUnique({
      where: { sku },
      select: { lotTracked: true, alertDaysBeforeExpiry: true, removalDaysBeforeExpiry: true },
    });
    // Omitted settings keep their value: the rule holds for the product as it will be. A day
    // left unset counts as 0 (the date falls on the use-by date itself, domain/stock.ts).
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
        {
          alertDaysBeforeExpiry: alert ?? null,
          removalDaysBeforeExpiry: removal ?? null,
        },
      );
    }
    if (current && settings.lotTracked !== undefined && settings.lotTracked !== current.lotTracked) {
      const stocked = await tx.inventoryLevel.count({ where: { sku, onHand: { gt: 0 } } });
      if (stocked > 0) {
        throw new DomainError(ErrorCode.LOT_TRACKING_LOCKED, `${sku} has stock; lot tracking cannot change now`);
      }
    }
    return tx.product.upsert({ where: { sku }, create: { sku, name, ...settings }, update: { name, ...settings } });
  });
}

/** Where a warehouse is and how it ranks for allocation (lower priority = chosen first). */
export interface WarehousePlacement {
  readonly region?: string;
  readonly priority?: number;
  readonly latitude?: number | null;
  readonly longitude?: number | null;
}

/** Creates or updates a warehouse; the same call twice leaves one warehouse. */
export async function upsertWarehouse(db: Db, code: string, name: string, placement: WarehousePlacement = {}) {
  const maria = mariadbOf(db);
  if (maria) return upsertWarehouseOnMariadb(maria, code, name, placement);
  return db.warehouse.upsert({ where: { code }, create: { code, name, ...placement }, update: { name, ...placement } });
}
