/**
 * Per-key and per-(key, user) order limits (plain and flash-sale orders), shared by every API
 * process through Redis (platform/rate-limit). Runs after validation (the user id is in the
 * body) and before anything is held: a refused order holds nothing. 429 RATE_LIMITED with
 * `details.retryAfter` (seconds) and a Retry-After header (set by the error handler).
 */
import fp from 'fastify-plugin';
import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { DomainError, ErrorCode } from '../../domain/errors';
import { CircuitBreaker } from '../../platform/breaker';
import { LIMIT_WINDOW_MS, RateLimiter, type Bucket, type LimitVerdict } from '../../platform/rate-limit';
import { createRedis } from '../../platform/redis';
import type { FlashLimits } from '../../use-cases/place-flash-order';

declare module 'fastify' {
  interface FastifyInstance {
    /** preHandler of the order routes: spends one order from the key's and the user's budgets. */
    limitOrders: preHandlerAsyncHookHandler;
    /** The key's and the user's budgets of an order request. */
    orderBuckets: (request: FastifyRequest) => [Bucket, Bucket];
    /**
     * The same budgets for flash-sale orders, which the gate spends in its own admission step
     * (one Redis round trip for both) once it admits the order.
     */
    flashLimits: FlashLimits;
  }
}

export default fp(async function orderLimits(app) {
  const { config, metrics } = app.deps;
  // A connection of its own: auto-pipelined, with the cache's short deadline, so a slow
  // Redis costs an order at most REDIS_COMMAND_TIMEOUT_MS before the local count decides.
  const redis = createRedis(config.redisUrl, {
    connectTimeoutMs: config.cache.connectTimeoutMs,
    commandTimeoutMs: config.cache.commandTimeoutMs,
    autoPipelining: true,
  });
  app.addHook('onClose', async () => redis.disconnect());
  const limiter = new RateLimiter(
    redis,
    new CircuitBreaker({ failures: config.cache.breakerFailures, cooldownMs: config.cache.breakerCooldownMs }),
  );

  const bucketsOf = (request: FastifyRequest): [Bucket, Bucket] => {
    const userId = (request.body as { userId: string }).userId;
    const keyId = request.principal?.keyId ?? '-';
    // The user budget is per (key, user): user ids are each shop's own, so one shop's shopper
    // must not spend another shop's shopper's budget. A key id has no ':', so the pair is unambiguous.
    return [
      { kind: 'key', id: keyId, limit: config.keyRateLimitPerMinute },
      { kind: 'user', id: `${keyId}:${userId}`, limit: config.orderRateLimitPerMinute },
    ];
  };
  /** Counts the verdict in the metrics; the 429 to answer when it refuses. */
  const settle = (verdict: LimitVerdict): DomainError | undefined => {
    metrics.rateLimitChecks.inc({ store: verdict.store, result: verdict.allowed ? 'allowed' : verdict.bucket });
    if (verdict.allowed) return undefined;
    const retryAfter = Math.max(1, Math.ceil(verdict.retryAfterMs / 1000));
    const whose = verdict.bucket === 'user' ? 'this user' : 'this API key';
    return new DomainError(ErrorCode.RATE_LIMITED, `too many orders from ${whose}; retry in ${retryAfter} s`, {
      retryAfter,
      limit: verdict.bucket,
    });
  };
  const spend = async (buckets: readonly Bucket[]): Promise<void> => {
    const refused = settle(await limiter.check(buckets));
    if (refused) throw refused;
  };

  app.decorate('limitOrders', async function limitOrders(request) {
    await spend(bucketsOf(request));
  });
  app.decorate('orderBuckets', bucketsOf);
  app.decorate('flashLimits', {
    windowMs: LIMIT_WINDOW_MS,
    spend,
    spentByGate: () => void settle({ allowed: true, store: 'redis' }),
    refusedByGate: (refused) => settle({ allowed: false, store: 'redis', ...refused })!,
  } satisfies FlashLimits);
});
