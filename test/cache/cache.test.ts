/**
 * The stock cache on the real PostgreSQL and Redis: the versioned Lua fill, the outbox
 * written with every stock change, the relay, the read path, and the consistency checker.
 */
import { createStockCache, invalidateOnCommit } from '../../data/cache';
import { readCachedAvailability } from '../../data/cache/read-through';
import { checkCache, recentChecks } from '../../data/cache/checker';
import { drainOnce } from '../../data/cache/relay';
import { FillResult } from '../../data/cache/scripts';
import { loadViews } from '../../data/cache/source';
import { cacheKey, type StockCache } from '../../data/cache/stock-cache';
import type { Db } from '../../data/db';
import { confirmStock } from '../../data/orders/confirm';
import { reserveStock } from '../../data/orders/reservations';
import { upsertProduct, upsertWarehouse } from '../../data/stock/catalog';
import { receiveStock } from '../../data/stock/stock-admin';
import { setSafetyStock } from '../../data/stock/stock-settings';
import { createMetrics } from '../../platform/metrics';
import { eventually } from '../helpers/app';
import { clearCache, ready } from '../helpers/cache';
import { invariantViolations, resetDb, stock, testDb } from '../helpers/db';
import { testConfig } from '../helpers/env';

let db: Db;
let cache: StockCache;
const metrics = createMetrics('worker');
const silent = () => undefined;

beforeAll(async () => {
  db = testDb();
  cache = createStockCache(testConfig(), metrics);
  await ready(cache);
});
beforeEach(async () => {
  await resetDb(db);
  await clearCache(cache);
  // No fast-path listener: these tests exercise the outbox as if the process had died.
  db.afterCommit = undefined;
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});
afterAll(async () => {
  cache.redis.disconnect();
  await db.$disconnect();
});

const view = async (sku: string) => (await loadViews(db, [sku])).get(sku)!;
const cached = async (sku: string) => (await cache.get(sku))?.view;
const reserve = (id: string, sku: string, quantity: number) =>
  reserveStock(db, {
    reservationId: id,
    orderId: id,
    userId: 'u',
    lines: [{ sku, warehouseCode: 'W1', quantity }],
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
  });

describe('fill-1.lua', () => {
  it('a fill never overwrites a newer entry; the same or a newer version replaces it', async () => {
    await stock(db, 'LUA', 'W1', 10);
    const old = await view('LUA');
    await reserve('r1', 'LUA', 4);
    const fresh = await view('LUA');
    expect(fresh.version).toBeGreaterThan(old.version);

    expect(await cache.fill(fresh)).toBe(FillResult.WRITTEN);
    expect(await cache.fill(old)).toBe(FillResult.STALE);
    expect(await cached('LUA')).toEqual(fresh.view);
    expect(await cache.fill(fresh)).toBe(FillResult.WRITTEN);
    expect(await cache.redis.ttl(cacheKey('LUA'))).toBeGreaterThan(0);
  });
});

describe('outbox', () => {
  it('every stock change records its invalidation in the same transaction; a refused one records none', async () => {
    await stock(db, 'OB', 'W1', 5);
    await reserve('ok', 'OB', 5);
    expect((await db.cacheOutbox.findMany()).map((r) => r.sku)).toEqual(['OB', 'OB']);
    // Refused for lack of stock: the transaction changes no level and leaves no row.
    await reserve('short', 'OB', 1);
    expect(await db.cacheOutbox.count()).toBe(2);
  });

  it('changes that move no goods but change availability record an invalidation too', async () => {
    await stock(db, 'SAFE', 'W1', 5);
    await db.$executeRawUnsafe('TRUNCATE cache_outbox');
    await setSafetyStock(db, { idempotencyKey: 'safe-1', sku: 'SAFE', warehouseCode: 'W1', safetyStock: 2 });
    expect((await db.cacheOutbox.findMany()).map((r) => r.sku)).toEqual(['SAFE']);
  });

  it('a process dying right after the commit loses nothing: the relay repairs the cached entry', async () => {
    await stock(db, 'DIE', 'W1', 10);
    await drainOnce(db, cache, 100);
    expect(await cached('DIE')).toMatchObject({ total: { onHand: 10, reserved: 0, available: 10 } });
    // Committed; the committing process never touched Redis (no listener) — as if it died.
    await reserve('d1', 'DIE', 3);
    expect(await cached('DIE')).toMatchObject({ total: { reserved: 0 } });
    expect(await drainOnce(db, cache, 100)).toEqual({ applied: 1, retried: 0 });
    expect(await cached('DIE')).toEqual((await view('DIE')).view);
    expect(await db.cacheOutbox.count()).toBe(0);
  });

  it('a product rename invalidates too (trigger)', async () => {
    await stock(db, 'REN', 'W1', 1);
    await db.cacheOutbox.deleteMany();
    await upsertProduct(db, 'REN', 'Renamed');
    await upsertProduct(db, 'REN', 'Renamed');
    expect((await db.cacheOutbox.findMany()).map((r) => r.sku)).toEqual(['REN']);
  });
});

describe('read path', () => {
  it('miss → PostgreSQL → fill; then hit; stays right across changes once relayed', async () => {
    await stock(db, 'RD', 'W1', 8);
    expect(await readCachedAvailability(db, cache, 'NOPE')).toBeUndefined();
    const first = await readCachedAvailability(db, cache, 'RD');
    expect(first).toEqual((await view('RD')).view);
    expect(await cached('RD')).toEqual(first);

    await reserve('rd1', 'RD', 2);
    await confirmStock(db, 'rd1', 'pay-1');
    await drainOnce(db, cache, 100);
    expect(await readCachedAvailability(db, cache, 'RD')).toMatchObject({
      sku: 'RD',
      name: 'RD',
      warehouses: [{ warehouseCode: 'W1', onHand: 6, reserved: 0, available: 6 }],
      total: { onHand: 6, reserved: 0, available: 6 },
    });
  });

  it('a slow reader that loaded the old level cannot put it back after the change is relayed', async () => {
    await stock(db, 'SLOW', 'W1', 10);
    const loadedBeforeChange = await view('SLOW');
    await reserve('s1', 'SLOW', 7);
    await drainOnce(db, cache, 100);
    await cache.tryFill(loadedBeforeChange);
    expect(await cached('SLOW')).toMatchObject({ total: { onHand: 10, reserved: 7, available: 3 } });
  });

  it("nor after the committing process's own fast path, without waiting for the relay", async () => {
    invalidateOnCommit(db, cache);
    await stock(db, 'FAST', 'W1', 10);
    const loadedBeforeChange = await view('FAST');
    await reserve('f1', 'FAST', 4);
    // The fast path refills in the background; once it has, the old level is refused.
    await eventually(
      () => cached('FAST'),
      (v) => v?.total.reserved === 4,
    );
    await cache.tryFill(loadedBeforeChange);
    expect(await cached('FAST')).toMatchObject({ total: { onHand: 10, reserved: 4, available: 6 } });
    expect(await db.cacheOutbox.count()).toBeGreaterThan(0); // the relay has not run
  });
});

describe("the committing process's refills", () => {
  it('coalesce per SKU under a burst of commits, and the last one reads the last commit', async () => {
    const refills = invalidateOnCommit(db, cache);
    await stock(db, 'BURST', 'W1', 100);
    await eventually(
      () => Promise.resolve(refills.active),
      (n) => n === 0,
    );
    const before = refills.runs;
    const commits = 40;
    await Promise.all(Array.from({ length: commits }, (_, i) => reserve(`b${i}`, 'BURST', 1)));
    await eventually(
      () => Promise.resolve(refills.active),
      (n) => n === 0,
    );
    const runs = refills.runs - before;
    // One refill per SKU at a time: far fewer than one per commit (the old fast path ran 40).
    expect(runs).toBeGreaterThanOrEqual(1);
    expect(runs).toBeLessThan(commits);
    expect(refills.folded).toBeGreaterThan(0);
    // And none missed: the entry is PostgreSQL's last version, every hold counted.
    const truth = await view('BURST');
    expect((await cache.get('BURST'))?.version).toBe(truth.version);
    expect(await cached('BURST')).toMatchObject({ total: { onHand: 100, reserved: commits, available: 60 } });
  });
});

describe('views that change with time alone', () => {
  it('an entry lives only until the next lot date, so an expiring lot cannot stay "available" in the cache', async () => {
    await upsertProduct(db, 'LYCHEE', 'Lychee', {
      lotTracked: true,
      alertDaysBeforeExpiry: 0,
      removalDaysBeforeExpiry: 0,
    });
    await upsertWarehouse(db, 'W1', 'W1');
    const expiresAt = new Date(Date.now() + 90_000).toISOString();
    await receiveStock(db, {
      idempotencyKey: 'lychee-1',
      sku: 'LYCHEE',
      warehouseCode: 'W1',
      quantity: 5,
      reason: 'test',
      lotCode: 'L1',
      expiresAt,
    });
    const view = await readCachedAvailability(db, cache, 'LYCHEE');
    expect(view?.total.available).toBe(5);
    const ttl = await cache.redis.ttl(cacheKey('LYCHEE'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(90); // not the hour-long default: the lot's date comes first
  });
});

describe('consistency checker', () => {
  const options = { hotPercent: 10, sample: 50, driftPercent: 1 };

  it('no drift → recorded, nothing rebuilt', async () => {
    for (const sku of ['C1', 'C2', 'C3']) await stock(db, sku, 'W1', 5);
    await reserve('c1', 'C1', 2);
    await drainOnce(db, cache, 100);
    const result = await checkCache(db, cache, options, metrics, silent);
    expect(result).toMatchObject({ hot: 1, sampled: 2, compared: 3, drifted: 0, rebuilt: false });
  });

  it('a lying entry is found, the whole cache rebuilt above the threshold, and the result queryable', async () => {
    for (const sku of ['L1', 'L2', 'L3', 'L4']) await stock(db, sku, 'W1', 5);
    await drainOnce(db, cache, 100);
    // The incident's cache: it shows stock the database does not have (same version, more units).
    const truth = await view('L2');
    await cache.redis.hset(
      cacheKey('L2'),
      'd',
      JSON.stringify({ ...truth.view, total: { onHand: 500, reserved: 0, available: 500 } }),
    );
    const result = await checkCache(db, cache, options, metrics, silent);
    expect(result).toMatchObject({ compared: 4, drifted: 1, driftRatio: 0.25, rebuilt: true, drifts: [{ sku: 'L2' }] });
    expect(await cached('L2')).toEqual(truth.view);
    expect(await recentChecks(db, 5)).toEqual([result]);
  });

  it('an entry behind a pending invalidation is in flight, not drift', async () => {
    await stock(db, 'P1', 'W1', 5);
    await drainOnce(db, cache, 100);
    await reserve('p1', 'P1', 1);
    const result = await checkCache(db, cache, options, metrics, silent);
    expect(result).toMatchObject({ compared: 1, drifted: 0 });
  });
});
