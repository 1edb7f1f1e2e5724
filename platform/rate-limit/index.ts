/**
 * Rate limits shared by every API process: fixed-window counters in Redis, one Lua script per
 * count (./lua/take-1.lua; platform/redis-scripts.ts loads it). Correctness never depends on them (holds
 * are decided by PostgreSQL), so when Redis cannot answer — not connected, a timeout, the
 * breaker open — each process counts in its own memory with the same limits: the limits
 * relax to one budget per process instead of refusing every order (docs/security.md).
 */
import path from 'node:path';
import type Redis from 'ioredis';
import type { CircuitBreaker } from '../breaker';
import { defineScripts } from '../redis-scripts';

/** One budget a request spends from, e.g. the caller's API key or the shopper. */
export interface Bucket {
  /** What it limits (`key`, `user`), as told to a refused caller. */
  readonly kind: string;
  readonly id: string;
  /** Requests per window. */
  readonly limit: number;
}

/** The Redis counter of a bucket (the flash-sale gate's admission spends the same ones). */
export function bucketKey(b: Bucket): string {
  return `stockhold:rate:${b.kind}:${b.id}`;
}

/** The limits' window: a budget is per minute. */
export const LIMIT_WINDOW_MS = 60_000;

/** Taken, or refused by the first full bucket with the time until its window closes. */
export type LimitVerdict =
  | { readonly allowed: true; readonly store: Store }
  | { readonly allowed: false; readonly store: Store; readonly bucket: string; readonly retryAfterMs: number };

/** Where a verdict was counted. */
export type Store = 'redis' | 'local';

type Take = (key: string, windowMs: number) => Promise<[number, number]>;

export class RateLimiter {
  private readonly take: Take;
  private readonly local = new Map<string, { count: number; endsAt: number }>();

  constructor(
    private readonly redis: Redis,
    private readonly breaker: CircuitBreaker,
    private readonly windowMs = LIMIT_WINDOW_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.take = defineScripts<{ stockholdRateTake: Take }>(
      redis,
      path.join(__dirname, 'lua'),
      'stockholdRate',
    ).stockholdRateTake.bind(redis);
  }

  /** Counts one request in every bucket; refused when any is past its limit. */
  async check(buckets: readonly Bucket[]): Promise<LimitVerdict> {
    const shared = await this.countShared(buckets);
    const counted = shared ?? buckets.map((b) => this.countLocally(b));
    const store: Store = shared ? 'redis' : 'local';
    const full = buckets.findIndex((b, i) => counted[i][0] > b.limit);
    if (full < 0) return { allowed: true, store };
    return { allowed: false, store, bucket: buckets[full].kind, retryAfterMs: counted[full][1] };
  }

  /** [count, ms left] per bucket from Redis, or undefined when Redis cannot answer now. */
  private async countShared(buckets: readonly Bucket[]): Promise<[number, number][] | undefined> {
    if (this.redis.status !== 'ready' || !this.breaker.allow()) return undefined;
    try {
      // Auto-pipelined: the buckets of a request (and of its neighbours) share one round trip.
      const counts = await Promise.all(buckets.map((b) => this.take(bucketKey(b), this.windowMs)));
      this.breaker.success();
      return counts;
    } catch {
      this.breaker.failure();
      return undefined;
    }
  }

  private countLocally(b: Bucket): [number, number] {
    const now = this.now();
    const key = `${b.kind}:${b.id}`;
    let w = this.local.get(key);
    if (!w || w.endsAt <= now) {
      if (this.local.size >= 100_000) this.sweep(now);
      w = { count: 0, endsAt: now + this.windowMs };
      this.local.set(key, w);
    }
    w.count += 1;
    return [w.count, w.endsAt - now];
  }

  private sweep(now: number): void {
    for (const [key, w] of this.local) if (w.endsAt <= now) this.local.delete(key);
  }
}
