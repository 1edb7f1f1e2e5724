/** The stock cache's entry points for the processes: build it, run its relay. */
import type { Config } from '../../config';
import type { Metrics } from '../../platform/metrics';
import { createRedis } from '../../platform/redis';
import type { Db } from '../store/db';
import { onStockCommitted } from './commit-hook';
import { CacheRelay } from './relay';
import { StockCache } from './stock-cache';

export function createStockCache(config: Config, metrics?: Metrics): StockCache {
  return new StockCache(createRedis(config.redisUrl, config.cache), config.cache, metrics);
}

/** Makes every stock transaction committed through `db` drop its cache entries at once (best effort). */
export function invalidateOnCommit(db: Db, cache: StockCache): void {
  onStockCommitted(db, (skus) => cache.invalidate(skus));
}

export function startCacheRelay(db: Db, cache: StockCache, config: Config, metrics?: Metrics): CacheRelay {
  const log = (message: string, fields: Record<string, unknown>) => console.warn(JSON.stringify({ level: 'warn', msg: message, ...fields }));
  return new CacheRelay(db, cache, { intervalMs: config.cache.relayIntervalMs, batch: config.cache.relayBatch, log }, metrics).start();
}
