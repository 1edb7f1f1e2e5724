/** What the API needs from the outside world, built by server.ts (or a test) and passed in. */
import type { Client } from '@temporalio/client';
import type Redis from 'ioredis';
import type { Gate } from '../data/gate';
import type { StockCache } from '../data/cache/stock-cache';
import type { Db } from '../data/db';
import type { Config } from '../config';
import type { Metrics } from '../platform/metrics';
import type { HoldDeps } from '../use-cases/hold-order';

export interface AppDeps {
  readonly config: Config;
  readonly db: Db;
  readonly redis: Redis;
  /** The flash-sale admission gate (Lua scripts on `redis`). */
  readonly gate: Gate;
  /** The availability cache over `redis`, behind its circuit breaker. */
  readonly cache: StockCache;
  readonly temporal: Client;
  readonly metrics: Metrics;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps;
    /** The request path's hold (use-cases/hold-order.ts), built once by buildApp. */
    holds: HoldDeps;
    /** Set on SIGTERM (api/server.ts): /readyz answers 503 while in-flight requests finish. */
    lifecycle: { draining: boolean };
  }
}
