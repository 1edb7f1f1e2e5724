/** Cache fixtures on the real Redis (the test index of REDIS_URL; never FLUSHALL). */
import type { StockCache } from '../../data/cache/stock-cache';
import { CACHE_KEY_PREFIX } from '../../data/cache/stock-cache';

/** Drops every stock entry: the test database restarts its versions, so old entries must go. */
export async function clearCache(cache: StockCache): Promise<void> {
  await cache.redis.ping();
  const keys = await cache.redis.keys(`${CACHE_KEY_PREFIX}*`);
  if (keys.length > 0) await cache.redis.del(...keys);
}

/** Waits until ioredis reports the connection ready (the cache only talks to a ready Redis). */
export async function ready(cache: StockCache): Promise<void> {
  if (cache.redis.status === 'ready') return;
  await new Promise<void>((resolve) => cache.redis.once('ready', () => resolve()));
}
