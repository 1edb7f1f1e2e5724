/** The stock cache's entry points for the processes: build it, run its relay. */
import type { Config } from '../../config';
import type { Metrics } from '../../platform/metrics';
import { createRedis } from '../../platform/redis';
import type { Db } from '../db';
import { rebuild } from './read-through';
import { CacheRelay } from './relay';
import { StockCache } from './stock-cache';
import { KeyedCoalescer } from '../../platform/keyed-coalescer';

export function createStockCache(config: Config, metrics?: Metrics): StockCache {
  return new StockCache(createRedis(config.redisUrl, { ...config.cache, tls: config.redisTls }), config.cache, metrics);
}

/**
 * Makes every stock transaction committed through `db` drop its cache entries at once, then
 * refill them from PostgreSQL in the background (best effort; the outbox is the guarantee).
 * The refill matters: a reader that loaded the old level before the commit may fill the
 * emptied key afterwards, and only a newer version in the key refuses it (fill-1.lua). Left to
 * the relay alone, that stale entry could be served for a relay cycle.
 *
 * Refills coalesce per SKU: one runs at a time, and the commits made while it runs get one
 * more, started after them (KeyedCoalescer), so the last refill always reads the last commit.
 * A hot SKU committing a hold batch every few milliseconds costs one refill at a time, not one
 * per batch (each is a snapshot transaction of several queries: issue 21's profile).
 * Returns the coalescer (its counters are what the tests read).
 */
export function invalidateOnCommit(db: Db, cache: StockCache): KeyedCoalescer {
  const refills = new KeyedCoalescer((sku) => rebuild(db, cache, [sku]));
  db.afterCommit = async (skus) => {
    await cache.invalidate(skus);
    for (const sku of skus) refills.request(sku);
  };
  return refills;
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
