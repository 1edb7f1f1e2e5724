/**
 * The cache's atomic Redis operations: one commented Lua file each (./lua: fill-1, invalidate
 * with the key count passed by the caller), defined by the one loader (platform/redis-scripts.ts);
 * their return codes are decoded in one place.
 */
import path from 'node:path';
import type Redis from 'ioredis';
import { defineScripts } from '../../platform/redis-scripts';

/** Outcomes of fill-1.lua. */
export const FillResult = { WRITTEN: 'written', STALE: 'stale' } as const;
export type FillResult = (typeof FillResult)[keyof typeof FillResult];

interface CacheCommands {
  stockFill(key: string, version: string, view: string, ttlSeconds: number): Promise<number>;
  stockInvalidate(numKeys: number, ...keys: string[]): Promise<number>;
}

/** A connection with the cache commands defined on it. */
export type CacheRedis = Redis & CacheCommands;

/** Defines the commands once per connection (idempotent: a second call is a no-op). */
export function withCacheCommands(redis: Redis): CacheRedis {
  return defineScripts<CacheCommands>(redis, path.join(__dirname, 'lua'), 'stock');
}

/** Decodes fill-1.lua's return code; anything else is a bug in the script or a wrong server. */
export function decodeFill(code: number): FillResult {
  switch (code) {
    case 1:
      return FillResult.WRITTEN;
    case 0:
      return FillResult.STALE;
    default:
      throw new Error(`fill-1.lua returned unknown code ${code}`);
  }
}
