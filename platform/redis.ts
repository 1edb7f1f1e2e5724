/** Redis connection settings shared by the API and the worker. */
import Redis from 'ioredis';

/**
 * Fail fast rather than queue: the gate must answer quickly or step aside (the order path
 * then goes to PostgreSQL), and nothing correct ever waits on Redis.
 */
export function createRedis(url: string): Redis {
  return new Redis(url, {
    connectTimeout: 2_000,
    commandTimeout: 500,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 5_000),
  });
}
