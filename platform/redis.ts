/**
 * The Redis connection. Redis only accelerates reads here, so the client fails fast instead
 * of waiting: short connect and command timeouts, one attempt per command, reconnection with
 * capped, jittered backoff in the background. Commands are only sent while connected (see
 * StockCache), so ioredis's offline queue never fills while Redis is down.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import Redis from 'ioredis';
import type { CacheConfig, Config, RedisTlsConfig } from '../config';

/** Reconnect delay: 100 ms doubling per attempt, capped at 5 s, with ±20% jitter. */
export function reconnectDelay(attempt: number, random = Math.random): number {
  const base = Math.min(100 * 2 ** Math.min(attempt - 1, 10), 5_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * TLS of a `rediss://` URL: the server's certificate is always verified (against
 * REDIS_TLS_CA_FILE when given, else the system's CAs); a client certificate when Redis asks
 * for one (`tls-auth-clients yes`). undefined for a plain `redis://` URL.
 */
export function redisTlsOptions(url: string, tls?: RedisTlsConfig): ConnectionOptions | undefined {
  if (!url.startsWith('rediss:')) return undefined;
  return {
    rejectUnauthorized: true,
    ...(tls?.caFile ? { ca: readFileSync(tls.caFile, 'utf8') } : {}),
    ...(tls?.certFile && tls.keyFile
      ? { cert: readFileSync(tls.certFile, 'utf8'), key: readFileSync(tls.keyFile, 'utf8') }
      : {}),
  };
}

export function createRedis(
  url: string,
  options: Pick<CacheConfig, 'connectTimeoutMs' | 'commandTimeoutMs'> & {
    autoPipelining?: boolean;
    tls?: RedisTlsConfig;
  },
): Redis {
  const tls = redisTlsOptions(url, options.tls);
  const redis = new Redis(url, {
    ...(tls ? { tls } : {}),
    enableAutoPipelining: options.autoPipelining ?? false,
    lazyConnect: false,
    connectTimeout: options.connectTimeoutMs,
    commandTimeout: options.commandTimeoutMs,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (times) => reconnectDelay(times),
  });
  // Connection errors are expected while Redis is down; the breaker and metrics report them.
  redis.on('error', () => undefined);
  return redis;
}

/**
 * The flash-sale gate's own connection. The gate answers every attempt of a sale, so it must
 * not share the cache's in-flight cap or its 250 ms read deadline: under a burst those would
 * send healthy admissions down the bounded PostgreSQL path as if Redis were down. It still
 * fails fast when Redis really is down (one attempt per command, no offline queue wait beyond
 * its own deadline).
 */
export function createGateRedis(config: Pick<Config, 'redisUrl' | 'redisTls' | 'cache' | 'campaigns'>): Redis {
  // Auto-pipelining: the admissions of a burst that arrive in one tick go to Redis in one write.
  return createRedis(config.redisUrl, {
    connectTimeoutMs: config.cache.connectTimeoutMs,
    commandTimeoutMs: config.campaigns.gateCommandTimeoutMs,
    autoPipelining: true,
    tls: config.redisTls,
  });
}
