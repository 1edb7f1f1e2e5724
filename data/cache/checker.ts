/**
 * The consistency checker: compares cached availability with PostgreSQL for the hottest
 * SKUs and a random sample, repairs what drifted, rebuilds the whole cache and alerts when
 * drift passes the threshold, and records every check in cache_checks.
 */
import type { CacheDrift, CacheCheckOptions, CacheCheckResult } from '../../domain/reports';
import type { Metrics } from '../../platform/metrics';
import type { Db } from '../db';
import { rebuild, rebuildAll } from './read-through';
import { pendingSkus } from './outbox';
import { loadViews } from './source';
import { mariadbOf } from '../mariadb/db';
import { hotSkusOnMariadb, randomSkusOnMariadb, recentChecksOnMariadb, recordCheckOnMariadb } from '../mariadb/cache';
import type { StockCache } from './stock-cache';

export type Logger = (level: 'info' | 'error', message: string, fields: Record<string, unknown>) => void;

/**
 * The hot SKUs: the top `hotPercent` of the catalogue (at least one) by quantity reserved in
 * the last 24 hours — where a wrong cached answer would mislead the most shoppers.
 */
export async function hotSkus(db: Db, hotPercent: number): Promise<string[]> {
  const maria = mariadbOf(db);
  if (maria) return hotSkusOnMariadb(maria, hotPercent);
  const products = await db.product.count();
  const n = Math.max(1, Math.ceil((products * hotPercent) / 100));
  const rows = await db.$queryRaw<{ sku: string }[]>`
    SELECT sku FROM stock_movements
     WHERE reason = 'RESERVE' AND created_at > now() - interval '24 hours'
     GROUP BY sku ORDER BY SUM(reserved_delta) DESC, sku LIMIT ${n}`;
  return rows.map((r) => r.sku);
}

async function randomSkus(db: Db, n: number, exclude: readonly string[]): Promise<string[]> {
  const maria = mariadbOf(db);
  if (maria) return randomSkusOnMariadb(maria, n, exclude);
  if (n === 0) return [];
  const rows = await db.$queryRaw<{ sku: string }[]>`
    SELECT sku FROM products WHERE NOT (sku = ANY(${[...exclude]}::text[])) ORDER BY random() LIMIT ${n}`;
  return rows.map((r) => r.sku);
}

/**
 * Compares cache and database for `skus`. A difference is drift only if the cached entry is
 * not newer than the database read and no invalidation for the SKU is pending before or
 * after the reads (otherwise the relay has it in hand). Absent entries are not drift: a
 * miss reads PostgreSQL.
 */
export async function compare(
  db: Db,
  cache: StockCache,
  skus: readonly string[],
): Promise<{ compared: number; drifts: CacheDrift[] }> {
  const pendingBefore = await pendingSkus(db, skus);
  const views = await loadViews(db, skus);
  const cached = await Promise.all(skus.map(async (sku) => [sku, await cache.get(sku)] as const));
  const pendingAfter = await pendingSkus(db, skus);
  let compared = 0;
  const drifts: CacheDrift[] = [];
  for (const [sku, entry] of cached) {
    const truth = views.get(sku);
    if (!entry || !truth) continue;
    compared += 1;
    if (pendingBefore.has(sku) || pendingAfter.has(sku) || entry.version > truth.version) continue;
    if (entry.version !== truth.version || JSON.stringify(entry.view) !== JSON.stringify(truth.view)) {
      drifts.push({ sku, cachedVersion: entry.version.toString(), dbVersion: truth.version.toString() });
    }
  }
  return { compared, drifts };
}

export async function checkCache(
  db: Db,
  cache: StockCache,
  options: CacheCheckOptions,
  metrics: Metrics,
  log: Logger,
): Promise<CacheCheckResult> {
  const hot = await hotSkus(db, options.hotPercent);
  const sample = await randomSkus(db, options.sample, hot);
  const { compared, drifts } = await compare(db, cache, [...hot, ...sample]);
  const driftRatio = compared === 0 ? 0 : drifts.length / compared;
  const overThreshold = driftRatio * 100 > options.driftPercent;
  if (overThreshold) {
    log('error', 'ALERT cache drift above threshold: rebuilding the whole cache', {
      driftRatio,
      drifted: drifts.length,
      compared,
    });
    await rebuildAll(db, cache);
  } else if (drifts.length > 0) {
    await cache.invalidate(drifts.map((d) => d.sku));
    await rebuild(
      db,
      cache,
      drifts.map((d) => d.sku),
    );
  }
  metrics.cacheChecks.inc({ result: drifts.length > 0 ? 'drift' : 'ok' });
  metrics.cacheDriftRatio.set(driftRatio);
  const data = {
    hot: hot.length,
    sampled: sample.length,
    compared,
    drifted: drifts.length,
    driftPpm: Math.round(driftRatio * 1_000_000),
    rebuilt: overThreshold,
    details: { drifts: drifts.slice(0, 100) },
  };
  const maria = mariadbOf(db);
  const row = maria
    ? await recordCheckOnMariadb(maria, data)
    : await db.cacheCheck.create({ data: { ...data, details: data.details as object } });
  log('info', 'cache consistency check', { compared, drifted: drifts.length, rebuilt: overThreshold });
  return toResult(row, drifts);
}

type CheckRow = {
  id: bigint;
  checkedAt: Date;
  hot: number;
  sampled: number;
  compared: number;
  drifted: number;
  driftPpm: number;
  rebuilt: boolean;
  details: unknown;
};

export function toResult(row: CheckRow, drifts?: CacheDrift[]): CacheCheckResult {
  return {
    id: row.id.toString(),
    checkedAt: row.checkedAt.toISOString(),
    hot: row.hot,
    sampled: row.sampled,
    compared: row.compared,
    drifted: row.drifted,
    driftRatio: row.driftPpm / 1_000_000,
    rebuilt: row.rebuilt,
    drifts: drifts ?? (row.details as { drifts?: CacheDrift[] } | null)?.drifts ?? [],
  };
}

/** The latest checks, newest first (GET /admin/cache/checks). */
export async function recentChecks(db: Db, limit: number): Promise<CacheCheckResult[]> {
  const maria = mariadbOf(db);
  if (maria) return (await recentChecksOnMariadb(maria, limit)).map((r) => toResult(r));
  const rows = await db.cacheCheck.findMany({ orderBy: { id: 'desc' }, take: limit });
  return rows.map((r) => toResult(r));
}
