/**
 * Availability as PostgreSQL has it, with the version the cache compares: the authority
 * every cache fill, rebuild and consistency check is taken from.
 */
import type { Db } from '../store/db';

/** Stock of one SKU in one warehouse. */
export interface LevelView {
  readonly warehouseCode: string;
  readonly onHand: number;
  readonly reserved: number;
  readonly available: number;
}

/** What GET /inventory/:sku answers. */
export interface AvailabilityView {
  readonly sku: string;
  readonly name: string;
  readonly warehouses: LevelView[];
  readonly total: { readonly onHand: number; readonly reserved: number; readonly available: number };
}

/**
 * A view and its version: the sum over the SKU's levels of (version + 1). Every level change
 * bumps one level's version and a new level adds at least 1, and levels are never deleted,
 * so the sum grows strictly with every committed change.
 */
export interface VersionedView {
  readonly version: bigint;
  readonly view: AvailabilityView;
}

interface Row {
  sku: string;
  name: string;
  warehouse_code: string | null;
  on_hand: number | null;
  reserved: number | null;
  version: bigint | null;
}

/**
 * Loads the views of the given SKUs in one statement (one snapshot, so a view and its
 * version always agree). Unknown SKUs are absent from the map.
 */
export async function loadViews(db: Db, skus: readonly string[]): Promise<Map<string, VersionedView>> {
  const rows = await db.$queryRaw<Row[]>`
    SELECT p.sku, p.name, l.warehouse_code, l.on_hand, l.reserved, l.version
      FROM products p LEFT JOIN inventory_levels l ON l.sku = p.sku
     WHERE p.sku = ANY(${[...skus]}::text[])
     ORDER BY p.sku, l.warehouse_code`;
  const grouped = new Map<string, Row[]>();
  for (const row of rows) grouped.set(row.sku, [...(grouped.get(row.sku) ?? []), row]);
  return new Map([...grouped].map(([sku, group]) => [sku, toView(group)]));
}

function toView(rows: Row[]): VersionedView {
  let version = 0n;
  const warehouses: LevelView[] = [];
  for (const r of rows) {
    if (r.warehouse_code === null) continue;
    version += BigInt(r.version ?? 0) + 1n;
    const onHand = r.on_hand ?? 0;
    const reserved = r.reserved ?? 0;
    warehouses.push({ warehouseCode: r.warehouse_code, onHand, reserved, available: onHand - reserved });
  }
  const sum = (f: (l: LevelView) => number) => warehouses.reduce((acc, l) => acc + f(l), 0);
  const total = { onHand: sum((l) => l.onHand), reserved: sum((l) => l.reserved), available: sum((l) => l.available) };
  return { version, view: { sku: rows[0].sku, name: rows[0].name, warehouses, total } };
}

/** Every SKU, for a full rebuild, in pages. */
export async function allSkus(db: Db, after: string, limit: number): Promise<string[]> {
  const rows = await db.product.findMany({ where: { sku: { gt: after } }, orderBy: { sku: 'asc' }, take: limit, select: { sku: true } });
  return rows.map((r) => r.sku);
}
