/**
 * Redis down, on a private redis-server this test starts and kills (never the machine's):
 * reads stay correct from PostgreSQL, the breaker opens so a dead Redis costs nothing per
 * request, invalidations wait in the outbox and are applied once Redis is back.
 */
import { createStockCache } from '../../data/cache';
import { readCachedAvailability } from '../../data/cache/read-through';
import { drainOnce } from '../../data/cache/relay';
import { loadViews } from '../../data/cache/source';
import type { StockCache } from '../../data/cache/stock-cache';
import type { Db } from '../../data/db';
import { reserveStock } from '../../data/orders/reservations';
import { BreakerState } from '../../platform/breaker';
import { createMetrics } from '../../platform/metrics';
import { eventually } from '../helpers/app';
import { ready } from '../helpers/cache';
import { invariantViolations, resetDb, stock, testDb } from '../helpers/db';
import { testConfig } from '../helpers/env';
import { startOwnRedis, type OwnRedis } from '../helpers/redis-server';

let db: Db;
let redis: OwnRedis;
let cache: StockCache;
const metrics = createMetrics('api');

beforeAll(async () => {
  db = testDb();
  await resetDb(db);
  redis = await startOwnRedis();
  cache = createStockCache(
    testConfig({ REDIS_URL: redis.url, CACHE_BREAKER_FAILURES: '3', CACHE_BREAKER_COOLDOWN_MS: '300' }),
    metrics,
  );
  db.afterCommit = (skus) => cache.invalidate(skus);
  await ready(cache);
});
afterAll(async () => {
  cache?.redis.disconnect();
  await redis?.kill();
  await db?.$disconnect();
});

const reserve = (id: string, quantity: number) =>
  reserveStock(db, {
    reservationId: id,
    orderId: id,
    userId: 'u',
    lines: [{ sku: 'DOWN', warehouseCode: 'W1', quantity }],
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
  });
const truth = async () => (await loadViews(db, ['DOWN'])).get('DOWN')!.view;
const bypasses = async () =>
  (await metrics.cacheReads.get()).values.find((v) => v.labels.result === 'bypass')?.value ?? 0;

it('reads stay correct while Redis is dead; the breaker opens; the outbox catches up after restart', async () => {
  await stock(db, 'DOWN', 'W1', 20);
  await drainOnce(db, cache, 100);
  expect(await readCachedAvailability(db, cache, 'DOWN')).toEqual(await truth());

  await redis.kill();
  await reserve('d1', 5);
  // Every read answers from PostgreSQL, and is right.
  for (let i = 0; i < 10; i += 1) expect(await readCachedAvailability(db, cache, 'DOWN')).toEqual(await truth());
  expect(cache.breaker.state).toBe(BreakerState.OPEN);
  expect(await bypasses()).toBeGreaterThanOrEqual(10);
  // The relay cannot apply: the rows stay, rescheduled.
  expect(await drainOnce(db, cache, 100)).toMatchObject({ applied: 0 });
  const waiting = await db.cacheOutbox.findMany();
  expect(waiting.length).toBeGreaterThan(0);
  expect(waiting.every((r) => r.attempts >= 1)).toBe(true);

  await redis.start();
  await reserve('d2', 2);
  // Reconnected (backoff), breaker closed again, the outbox drained, the cache right.
  await eventually(
    async () => {
      await drainOnce(db, cache, 100);
      return db.cacheOutbox.count();
    },
    (n) => n === 0,
  );
  expect(cache.breaker.state).toBe(BreakerState.CLOSED);
  expect((await cache.get('DOWN'))?.view).toEqual(await truth());
  expect(await readCachedAvailability(db, cache, 'DOWN')).toMatchObject({
    total: { onHand: 20, reserved: 7, available: 13 },
  });
  expect(await invariantViolations(db)).toEqual([]);
});
