/** The stock cache's entry points for the processes: build it, run its relay. */
import type { Config } from '../../config';
import type { Metrics } from '../../platform/metrics';
import { createRedis } from '../../platform/redis';
import type { Db } from '../db';
import { rebuild } from './read-through';
import { CacheRelay } from './relay';
import { StockCache } from './stock-cache';

export function createStockCache(config: Config, metrics?: Metrics): StockCache {
  return new StockCache(createRedis(config.redisUrl, { ...config.cache, tls: config.redisTls }), config.cache, metrics);
}

/**
 * Makes every stock transaction committed through `db` drop its cache entries at once, then
 * refill them from PostgreSQL in the background (best effort; the outbox is the guarantee).
 * The refill matters: a reader that loaded the old level before the commit may fill the
 * emptied key afterwards, and only a newer version in the key refuses it (fill-1.lua). Left to
 * the relay alone, that stale entry could be served for a relay cycle.
 */
export function invalidateOnCommit(db: Db, cache: StockCache): void {
  db.afterCommit = async (skus) => {
    await cache.invalidate(skus);
    void rebuild(db, cache, skus).catch(() => undefined);
  };
}

export function startCacheRelay(db: Db, cache: StockCache, config: Config, metrics?: Metrics): CacheRelay {
  const log = (message: string, fields: Record<string, unknown>) =>
    console.warn(JSON.stringify({ level: 'warn', msg: message, ...fields }));
  return new CacheRelay(
    db,
    cache,
    { intervalMs: config.cache.relayIntervalMs, batch: config.cache.relayBatch, log },
    metrics,
  ).start();
}
