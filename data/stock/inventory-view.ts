/** The inventory read model: per warehouse, every state stock can be in, and its lots. */
import { availableUnits, lotState, type LotState } from '../../domain/stock';
import type { Db, Tx } from '../db';
import { mariadbOf, type MariadbPool } from '../mariadb/db';
import { inventoryRowsOnMariadb, type InventoryRows } from '../mariadb/inventory-view';

/** One lot as operators see it. */
export interface LotView {
  readonly lotCode: string;
  readonly quantity: number;
  readonly receivedAt: string;
  readonly expiresAt: string | null;
  readonly alertAt: string | null;
  readonly removeAt: string | null;
  readonly state: LotState;
  readonly quarantineReason: string | null;
}

/**
 * Quantities of a level; available = onHand - reserved - safetyStock - damaged - qualityControl
 * - unsellable (never below 0).
 */
export interface Quantities {
  readonly onHand: number;
  readonly reserved: number;
  readonly safetyStock: number;
  /** On hand, set aside as damaged: not sellable. */
  readonly damaged: number;
  /** On hand, held for quality control: not sellable. */
  readonly qualityControl: number;
  /** In quarantined lots or lots past their removal date. */
  readonly unsellable: number;
  /** In transit towards this warehouse; not available until received. */
  readonly incoming: number;
  readonly available: number;
}

export interface LevelView extends Quantities {
  readonly warehouseCode: string;
  readonly lots: LotView[];
}

type LevelRow = InventoryRows['levels'][number];

/** Per-warehouse and total stock of a SKU, read from PostgreSQL; undefined for an unknown SKU. */
export async function readInventory(db: Db | Tx, sku: string) {
  const maria = mariadbOf(db as { readonly mariadb?: MariadbPool });
  if (maria) return shapeInventory(await inventoryRowsOnMariadb(maria, sku));
  const product = await db.product.findUnique({ where: { sku } });
  if (!product) return undefined;
  // unsellable_quantity is the reserve guard's own definition, evaluated at the same now().
  const rows = await db.$queryRaw<LevelRow[]>`
    SELECT warehouse_code, on_hand, reserved, safety_stock, damaged, quality_control, incoming,
           unsellable_quantity(sku, warehouse_code) AS unsellable, now() AS now
      FROM inventory_levels WHERE sku = ${sku} ORDER BY warehouse_code`;
  const lots = await db.stockLot.findMany({ where: { sku }, orderBy: [{ expiresAt: 'asc' }, { lotCode: 'asc' }] });
  return shapeInventory({ product, levels: rows, lots });
}

/**
 * The view of one SKU from its rows, whichever store read them (MariaDB's in
 * data/mariadb/inventory-view.ts): the same answer on both.
 */
export function shapeInventory(rows: InventoryRows | undefined) {
  if (!rows) return undefined;
  const { product, levels, lots } = rows;
  const warehouses: LevelView[] = levels.map((r) => ({
    warehouseCode: r.warehouse_code,
    ...quantities({
      onHand: r.on_hand,
      reserved: r.reserved,
      safetyStock: r.safety_stock,
      damaged: r.damaged,
      qualityControl: r.quality_control,
      unsellable: r.unsellable,
      incoming: r.incoming,
    }),
    lots: lots
      .filter((l) => l.warehouseCode === r.warehouse_code && l.quantity > 0)
      .map((l) => ({
        lotCode: l.lotCode,
        quantity: l.quantity,
        receivedAt: l.receivedAt.toISOString(),
        expiresAt: l.expiresAt?.toISOString() ?? null,
        alertAt: l.alertAt?.toISOString() ?? null,
        removeAt: l.removeAt?.toISOString() ?? null,
        state: lotState(l, r.now),
        quarantineReason: l.quarantineReason,
      })),
  }));
  const sum = (f: (l: LevelView) => number) => warehouses.reduce((acc, l) => acc + f(l), 0);
  const total = quantities({
    onHand: sum((l) => l.onHand),
    reserved: sum((l) => l.reserved),
    safetyStock: sum((l) => l.safetyStock),
    damaged: sum((l) => l.damaged),
    qualityControl: sum((l) => l.qualityControl),
    unsellable: sum((l) => l.unsellable),
    incoming: sum((l) => l.incoming),
  });
  return {
    sku: product.sku,
    name: product.name,
    lotTracked: product.lotTracked,
    warehouses,
    total: { ...total, available: sum((l) => l.available) },
  };
}

function quantities(q: Omit<Quantities, 'available'>): Quantities {
  const { onHand, reserved, safetyStock, damaged, qualityControl, unsellable, incoming } = q;
  return { onHand, reserved, safetyStock, damaged, qualityControl, unsellable, incoming, available: availableUnits(q) };
}
