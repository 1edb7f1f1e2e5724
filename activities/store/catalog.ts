/** Catalogue: products (with perishable settings) and warehouses (with their placement). */
import { DomainError, ErrorCode } from '../../domain/errors';
import { inSerialTx, type Db } from './db';

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
  return inSerialTx(db, `product:${sku}`, async (tx) => {
    const current = await tx.product.findUnique({ where: { sku }, select: { lotTracked: true } });
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
  return db.warehouse.upsert({ where: { code }, create: { code, name, ...placement }, update: { name, ...placement } });
}

