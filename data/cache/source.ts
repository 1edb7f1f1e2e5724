/**
 * Availability as PostgreSQL has it, with the version the cache compares: the authority
 * every cache fill, rebuild and consistency check is taken from. The view is the inventory
 * read model (data/stock/inventory-view.ts): every state stock can be in, with lots.
 */
import type { Db } from '../db';
import { readInventory } from '../stock/inventory-view';
import { mariadbOf } from '../mariadb/db';
import { allSkusOnMariadb, loadViewsOnMariadb } from '../mariadb/cache';

/** What GET /inventory/:sku answers. */
export type AvailabilityView = NonNullable<Awaited<ReturnType<typeof readInventory>>>;

/**
 * A view and its version: the sum over the SKU's levels of (version + 1). Every level change
 * bumps one level's version and a new level adds at least 1, and levels are never deleted,
 * so the sum grows strictly with every committed change.
 *
 * Some of a view changes with time alone (a lot reaching its alert, expiry or removal date
 * changes its state and what is available) without any write to bump a version, so a view
 * is only valid until the next of those instants: `validForSeconds`.
 */
export interface VersionedView {
  readonly version: bigint;
  readonly view: AvailabilityView;
  readonly validForSeconds?: number;
}

/**
 * Loads the views of the given SKUs, each in one REPEATABLE READ snapshot so a view and its
 * version always agree. Unknown SKUs are absent from the map.
 */
export async function loadViews(db: Db, skus: readonly string[]): Promise<Map<string, VersionedView>> {
  const maria = mariadbOf(db);
  if (maria) return loadViewsOnMariadb(maria, skus);
  const out = new Map<string, VersionedView>();
  for (const sku of new Set(skus)) {
    const entry = await db.$transaction(
      async (tx) => {
        const view = await readInventory(tx, sku);
        if (!view) return undefined;
        const [meta] = await tx.$queryRaw<{ version: bigint; next_change_seconds: number | null }[]>`
          SELECT (SELECT COALESCE(SUM(version + 1), 0) FROM inventory_levels WHERE sku = ${sku})::bigint AS version,
                 (SELECT CEIL(EXTRACT(EPOCH FROM MIN(t) - now()))::int
                    FROM stock_lots l, LATERAL (VALUES (l.alert_at), (l.expires_at), (l.remove_at)) AS x(t)
                   WHERE l.sku = ${sku} AND l.quantity > 0 AND t > now()) AS next_change_seconds`;
        return { version: meta.version, view, validForSeconds: meta.next_change_seconds ?? undefined };
      },
      { isolationLevel: 'RepeatableRead' },
    );
    if (entry) out.set(sku, entry);
  }
  return out;
}

/** Every SKU, for a full rebuild, in pages. */
export async function allSkus(db: Db, after: string, limit: number): Promise<string[]> {
  const maria = mariadbOf(db);
  if (maria) return allSkusOnMariadb(maria, after, limit);
  const rows = await db.product.findMany({
    where: { sku: { gt: after } },
    orderBy: { sku: 'asc' },
    take: limit,
    select: { sku: true },
  });
  return rows.map((r) => r.sku);
}
