/**
 * The stock availability cache in Redis. It only ever accelerates reads: every method
 * degrades to "not cached" when Redis is slow, down, saturated or behind an open breaker,
 * and the caller then asks PostgreSQL. Nothing that sells stock reads it.
 */
import type Redis from 'ioredis';
import type { CacheConfig } from '../../config';
import { CircuitBreaker, BreakerState } from '../../platform/breaker';
import type { Metrics } from '../../platform/metrics';
import { decodeFill, withCacheCommands, type CacheRedis, type FillResult } from './scripts';
import type { AvailabilityView, VersionedView } from './source';

export const CACHE_KEY_PREFIX = 'stockhold:stock:';
export const cacheKey = (sku: string) => `${CACHE_KEY_PREFIX}${sku}`;

/** A cached entry as read back: its version and view. */
export interface CachedEntry {
  readonly version: bigint;
  readonly view: AvailabilityView;
}

/** Thrown by `run` when the cache cannot be used now; callers fall back or retry. */
export class CacheUnavailableError extends Error {
  constructor(readonly reason: 'breaker_open' | 'not_connected' | 'saturated') {
    super(`cache unavailable: ${reason}`);
    this.name = 'CacheUnavailableError';
  }
}

export class StockCache {
  readonly redis: CacheRedis;
  readonly breaker: CircuitBreaker;
  private inFlight = 0;

  constructor(
    redis: Redis,
    private readonly config: CacheConfig,
    private readonly metrics?: Metrics,
  ) {
    this.redis = withCacheCommands(redis);
    this.breaker = new CircuitBreaker({
      failures: config.breakerFailures,
      cooldownMs: config.breakerCooldownMs,
      onChange: (state) => metrics?.cacheBreakerOpen.set(state === BreakerState.CLOSED ? 0 : 1),
    });
  }

  /**
   * Runs one Redis operation behind the breaker and the in-flight bound. Not connected or
   * too many pending commands count as failures without touching Redis: that is what keeps
   * ioredis's offline queue empty and makes a dead Redis cost nothing per request.
   */
  async run<T>(op: (redis: CacheRedis) => Promise<T>): Promise<T> {
    if (!this.breaker.allow()) throw new CacheUnavailableError('breaker_open');
    if (this.redis.status !== 'ready') {
      this.breaker.failure();
      throw new CacheUnavailableError('not_connected');
    }
    if (this.inFlight >= this.config.maxInFlight) {
      this.breaker.failure();
      throw new CacheUnavailableError('saturated');
    }
    this.inFlight += 1;
    try {
      const result = await op(this.redis);
      this.breaker.success();
      return result;
    } catch (err) {
      this.breaker.failure();
      throw err;
    } finally {
      this.inFlight -= 1;
    }
  }

  /** The cached entry, or undefined on a miss or when the cache cannot answer. */
  async get(sku: string): Promise<CachedEntry | undefined> {
    try {
      const [version, data] = await this.run((r) => r.hmget(cacheKey(sku), 'v', 'd'));
      const result = version === null || data === null ? 'miss' : 'hit';
      this.metrics?.cacheReads.inc({ result });
      return result === 'hit' ? { version: BigInt(version!), view: JSON.parse(data!) as AvailabilityView } : undefined;
    } catch {
      this.metrics?.cacheReads.inc({ result: 'bypass' });
      return undefined;
    }
  }

  /** Writes an entry unless a newer one is cached (fill-1.lua). Throws when Redis fails. */
  async fill(entry: VersionedView): Promise<FillResult> {
    const ttl = Math.max(1, Math.min(this.config.ttlSeconds, entry.validForSeconds ?? Infinity));
    const code = await this.run((r) =>
      r.stockFill(cacheKey(entry.view.sku), entry.version.toString(), JSON.stringify(entry.view), ttl),
    );
    return decodeFill(code);
  }

  /** A fill for the read path: a failure only means the next read misses too. */
  async tryFill(entry: VersionedView): Promise<void> {
    await this.fill(entry).catch(() => undefined);
  }

  /** Drops the entries of `skus` (invalidate.lua). Throws when Redis fails. */
  async invalidate(skus: readonly string[]): Promise<number> {
    if (skus.length === 0) return 0;
    return this.run((r) => r.stockInvalidate(skus.length, ...skus.map(cacheKey)));
  }

  /** Every cached SKU (SCAN, so a large cache does not block Redis). */
  async cachedSkus(): Promise<string[]> {
    return this.run(async (r) => {
      const skus: string[] = [];
      for await (const keys of r.scanStream({ match: `${CACHE_KEY_PREFIX}*`, count: 500 })) {
        for (const key of keys as string[]) skus.push(key.slice(CACHE_KEY_PREFIX.length));
      }
      return skus;
    });
  }
}
