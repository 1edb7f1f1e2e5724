/**
 * Availability as the reserve guard sees it, read inside the reserve transaction for the
 * allocation planner. The formula is the guard's own (AVAILABLE): on_hand - reserved -
 * safety_stock - damaged - quality_control - unsellable_quantity (quarantined or past-removal lots).
 */
import type { Availability, WarehouseSite } from '../../domain/allocation';
import type { Tx } from '../db';
import { AVAILABLE } from './level-sql';

/** Every warehouse with what allocation ranks it by. */
export async function readSites(tx: Tx): Promise<WarehouseSite[]> {
  return tx.warehouse.findMany({
    select: { code: true, region: true, priority: true, latitude: true, longitude: true },
    orderBy: { code: 'asc' },
  });
}

/** Sellable quantity of each SKU per warehouse (negative when holds exceed sellable stock). */
export async function readAvailableBySite(tx: Tx, skus: readonly string[]): Promise<Availability> {
  const rows = await tx.$queryRaw<{ sku: string; warehouse_code: string; available: number }[]>`
    SELECT sku, warehouse_code,
           ${AVAILABLE} AS available
      FROM inventory_levels WHERE sku = ANY(${[...skus]}::text[])`;
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    if (!out.has(r.sku)) out.set(r.sku, new Map());
    out.get(r.sku)!.set(r.warehouse_code, r.available);
  }
  return out;
}
