/**
 * The read path of availability: cache first, PostgreSQL on a miss (then fill), and the
 * rebuild the relay and the checker use. PostgreSQL stays the authority throughout.
 */
import type { Db } from '../db';
import { allSkus, loadViews, type AvailabilityView } from './source';
import type { StockCache } from './stock-cache';

/** Availability of a SKU, or undefined for an unknown SKU. Correct with or without Redis. */
export async function readCachedAvailability(
  db: Db,
  cache: StockCache,
  sku: string,
): Promise<AvailabilityView | undefined> {
  const cached = await cache.get(sku);
  if (cached) return cached.view;
  const entry = (await loadViews(db, [sku])).get(sku);
  if (!entry) return undefined;
  // Awaited, but bounded by the command timeout and skipped behind an open breaker.
  await cache.tryFill(entry);
  return entry.view;
}

/**
 * Reloads `skus` from PostgreSQL into the cache. The versioned fill means a rebuild racing a
 * later change can only lose to the newer view, never overwrite it. Throws if Redis fails.
 */
export async function rebuild(db: Db, cache: StockCache, skus: readonly string[]): Promise<number> {
  const views = await loadViews(db, skus);
  for (const entry of views.values()) await cache.fill(entry);
  return views.size;
}

/**
 * Drops every cached entry and reloads every SKU. Dropping first matters: after a database
 * restore versions can go backwards, and a versioned fill alone would keep the stale entries.
 */
export async function rebuildAll(db: Db, cache: StockCache, pageSize = 500): Promise<number> {
  const cached = await cache.cachedSkus();
  for (let i = 0; i < cached.length; i += pageSize) await cache.invalidate(cached.slice(i, i + pageSize));
  let rebuilt = 0;
  for (let after = ''; ;) {
    const page = await allSkus(db, after, pageSize);
    if (page.length === 0) return rebuilt;
    rebuilt += await rebuild(db, cache, page);
    after = page[page.length - 1];
  }
}
