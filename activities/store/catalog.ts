/**
 * Catalogue and stock administration: products, warehouses, goods receipts, and the
 * availability read model.
 */
import { DomainError, ErrorCode } from '../../domain/errors';
import { Operation } from '../../domain/types';
import { inSerialTx, readFence, writeFence, writeMovements, type Db } from './db';

/** A receipt of goods into a warehouse, idempotent by its key. */
export interface ReceiveInput {
  readonly idempotencyKey: string;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly quantity: number;
  readonly reason: string;
}

/** The level after a receipt; `replayed` when the key had been used before. */
export interface ReceiveOutcome {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly quantity: number;
  readonly reason: string;
  readonly onHand: number;
  readonly reserved: number;
  readonly replayed: boolean;
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

/**
 * Adds received goods to on-hand. The key is the business serial: the first receipt under a
 * key is applied once, a repeat returns it, and a different receipt under a used key is
 * refused rather than silently ignored.
 */
export async function receiveStock(db: Db, input: ReceiveInput): Promise<ReceiveOutcome> {
  const serial = `receipt:${input.idempotencyKey}`;
  return inSerialTx(db, serial, async (tx) => {
    const first = await readFence<ReceiveOutcome>(tx, serial, Operation.RECEIVE);
    if (first) {
      const same =
        first.sku === input.sku &&
        first.warehouseCode === input.warehouseCode &&
        first.quantity === input.quantity &&
        first.reason === input.reason;
      if (!same) {
        throw new DomainError(ErrorCode.IDEMPOTENCY_CONFLICT, 'this idempotency key was used for a different receipt', {
          first: { sku: first.sku, warehouseCode: first.warehouseCode, quantity: first.quantity, reason: first.reason },
        });
      }
      return { ...first, replayed: true };
    }
    const [product, warehouse] = await Promise.all([
      tx.product.findUnique({ where: { sku: input.sku }, select: { sku: true } }),
      tx.warehouse.findUnique({ where: { code: input.warehouseCode }, select: { code: true } }),
    ]);
    if (!product) throw new DomainError(ErrorCode.UNKNOWN_PRODUCT, `no product ${input.sku}`);
    if (!warehouse) throw new DomainError(ErrorCode.UNKNOWN_WAREHOUSE, `no warehouse ${input.warehouseCode}`);
    const rows = await tx.$queryRaw<{ on_hand: number; reserved: number }[]>`
      INSERT INTO inventory_levels (sku, warehouse_code, on_hand)
      VALUES (${input.sku}, ${input.warehouseCode}, ${input.quantity})
      ON CONFLICT (sku, warehouse_code) DO UPDATE
        SET on_hand = inventory_levels.on_hand + EXCLUDED.on_hand,
            version = inventory_levels.version + 1, updated_at = now()
      RETURNING on_hand, reserved`;
    await writeMovements(tx, [
      {
        sku: input.sku,
        warehouseCode: input.warehouseCode,
        reason: `RECEIVE:${input.reason}`,
        reference: serial,
        onHandDelta: input.quantity,
        reservedDelta: 0,
      },
    ]);
    const outcome: ReceiveOutcome = {
      sku: input.sku,
      warehouseCode: input.warehouseCode,
      quantity: input.quantity,
      reason: input.reason,
      onHand: rows[0].on_hand,
      reserved: rows[0].reserved,
      replayed: false,
    };
    await writeFence(tx, serial, Operation.RECEIVE, outcome);
    return outcome;
  });
}

/** Stock of one SKU in one warehouse, as shoppers and operators see it. */
export interface LevelView {
  readonly warehouseCode: string;
  readonly onHand: number;
  readonly reserved: number;
  readonly available: number;
}

/** Per-warehouse and total stock of a SKU, read from PostgreSQL; undefined for an unknown SKU. */
export async function readInventory(db: Db, sku: string) {
  const product = await db.product.findUnique({
    where: { sku },
    include: { levels: { orderBy: { warehouseCode: 'asc' } } },
  });
  if (!product) return undefined;
  const warehouses: LevelView[] = product.levels.map((l) => ({
    warehouseCode: l.warehouseCode,
    onHand: l.onHand,
    reserved: l.reserved,
    available: l.onHand - l.reserved,
  }));
  const sum = (f: (l: LevelView) => number) => warehouses.reduce((acc, l) => acc + f(l), 0);
  return {
    sku: product.sku,
    name: product.name,
    warehouses,
    total: { onHand: sum((l) => l.onHand), reserved: sum((l) => l.reserved), available: sum((l) => l.available) },
  };
}
