/**
 * Key revocations reach every API process at once: the revoker publishes the key id on a
 * Redis channel, and each process, subscribed on a connection of its own, drops the key from
 * its cache. A message that cannot arrive (Redis down, a reconnect in progress) is covered
 * twice: a subscriber that (re)connects drops its whole cache, and no cache entry outlives
 * API_KEY_CACHE_SECONDS, so a Redis outage delays a revocation by that much at most.
 */
import type Redis from 'ioredis';
import { createRedis } from './redis';

export const REVOCATIONS_CHANNEL = 'stockhold:api-keys:revoked';

/** Tells every subscribed process that `keyId` is revoked (the database already says so). */
export async function publishRevocation(redis: Redis, keyId: string): Promise<void> {
  // Never queued for a Redis that is down: the cache expiry covers that case.
  if (redis.status !== 'ready') throw new Error(`Redis is ${redis.status}`);
  await redis.publish(REVOCATIONS_CHANNEL, keyId);
}

export interface RevocationHandlers {
  /** A key was revoked somewhere: forget it. */
  revoked(keyId: string): void;
  /** Messages may have been missed (the subscription was down): forget every key. */
  resync(): void;
}

/** Subscribes on a connection of its own (a subscribed connection can do nothing else). */
export function subscribeRevocations(
  redisUrl: string,
  connectTimeoutMs: number,
  handlers: RevocationHandlers,
): { close(): void } {
  const redis = createRedis(redisUrl, { connectTimeoutMs, commandTimeoutMs: 5_000 });
  // Each (re)connection: subscribe (again: a no-op if ioredis already did) and forget what
  // may have been revoked while no message could arrive.
  redis.on('ready', () => {
    // Fire-and-forget inside an event listener (nothing could await it): a failed subscribe is
    // dropped because the next 'ready' subscribes again, and the resync runs either way.
    void redis
      .subscribe(REVOCATIONS_CHANNEL)
      .catch(() => undefined)
      .then(() => handlers.resync());
  });
  redis.on('message', (channel: string, keyId: string) => {
    if (channel === REVOCATIONS_CHANNEL) handlers.revoked(keyId);
  });
  return { close: () => redis.disconnect() };
}
