/**
 * The cache's atomic Redis operations: one commented Lua file each (./lua), registered on a
 * connection with ioredis `defineCommand`; their return codes are decoded in one place.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';

const script = (name: string) => readFileSync(path.join(__dirname, 'lua', `${name}.lua`), 'utf8');

/** Outcomes of fill.lua. */
export const FillResult = { WRITTEN: 'written', STALE: 'stale' } as const;
export type FillResult = (typeof FillResult)[keyof typeof FillResult];

/** A connection with the cache commands defined on it. */
export type CacheRedis = Redis & {
  stockFill(key: string, version: string, view: string, ttlSeconds: number): Promise<number>;
  stockInvalidate(numKeys: number, ...keys: string[]): Promise<number>;
};

/** Defines the commands once per connection (idempotent: a second call is a no-op). */
export function withCacheCommands(redis: Redis): CacheRedis {
  const r = redis as CacheRedis;
  if (typeof r.stockFill !== 'function') {
    redis.defineCommand('stockFill', { numberOfKeys: 1, lua: script('fill') });
    redis.defineCommand('stockInvalidate', { lua: script('invalidate') });
  }
  return r;
}

/** Decodes fill.lua's return code; anything else is a bug in the script or a wrong server. */
export function decodeFill(code: number): FillResult {
  switch (code) {
    case 1:
      return FillResult.WRITTEN;
    case 0:
      return FillResult.STALE;
    default:
      throw new Error(`fill.lua returned unknown code ${code}`);
  }
}
