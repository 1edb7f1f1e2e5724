/**
 * Stock administration, availability reads, the cache outbox and the seed on MariaDB (issue 22),
 * through the service's own data functions on the service user's `Db` (what the API and the
 * worker call), the real Redis, and the real API (inject) for the reads: receipts fenced by
 * their key, never negative, lots summing to on hand, GET /inventory/:sku equal to the levels,
 * and the third rule — the cache never shows stock the database does not have — including
 * when Redis was down at the commit.
 */
import type { Pool } from 'mariadb';
import { createStockCache, invalidateOnCommit } from '../../data/cache';
import { checkCache, recentChecks } from '../../data/cache/checker';
import { readCachedAvailability } from '../../data/cache/read-through';
import { drainOnce } from '../../data/cache/relay';
import { loadViews } from '../../data/cache/source';
import { cacheKey, type StockCache } from '../../data/cache/stock-cache';
import { asSystem, type Db } from '../../data/db';
import { mariadbOf } from '../../data/mariadb/db';
import { mariadbDrifts } from '../../data/mariadb/reconcile';
import { upsertProduct, upsertWarehouse } from '../../data/stock/catalog';
import { readInventory } from '../../data/stock/inventory-view';
import { writeOffExpiredLots } from '../../data/stock/expiry';
import { adjustStock, receiveStock } from '../../data/stock/stock-admin';
import { moveStock } from '../../data/stock/stock-states';
import { setLotQuarantine, setSafetyStock } from '../../data/stock/stock-settings';
import { DomainError, ErrorCode } from '../../domain/errors';
import { createMetrics } from '../../platform/metrics';
import { seed } from '../../prisma/seed';
import { eventually, useAppStack } from '../helpers/app';
import { clearCache, ready } from '../helpers/cache';
import { testConfig } from '../helpers/env';
import { describeMariadb, mariadbServiceDb, resetMariadb } from '../helpers/mariadb';
import { startOwnRedis, type OwnRedis } from '../helpers/redis-server';

const day = 86_400_000;
const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    if (err instanceof DomainError) return err.code;
    throw err;
  }
  return 'resolved';
};

/** Counts of the rows a refused change must not leave. */
async function traces(pool: Pool, sku: string) {
  const [r] = await pool.query<{ moves: number; outbox: number; fences: number }[]>(
    `SELECT (SELECT COUNT(*) FROM stock_movements WHERE sku = ?) AS moves,
            (SELECT COUNT(*) FROM cache_outbox WHERE sku = ?) AS outbox,
            (SELECT COUNT(*) FROM operation_fences) AS fences`,
    [sku, sku],
  );
  return { moves: Number(r.moves), outbox: Number(r.outbox), fences: Number(r.fences) };
}

async function levelRow(pool: Pool, sku: string, warehouseCode: string) {
  const [r] = await pool.query<{ on_hand: number; reserved: number; safety_stock: number }[]>(
    'SELECT on_hand, reserved, safety_stock FROM inventory_levels WHERE sku = ? AND warehouse_code = ?',
    [sku, warehouseCode],
  );
  return r;
}

describeMariadb('MariaDB: stock administration and the cache', () => {
  let db: Db;
  let pool: Pool;
  let cache: StockCache;

  beforeAll(async () => {
    await resetMariadb();
    db = mariadbServiceDb(10);
    pool = mariadbOf(db)!;
    cache = createStockCache(testConfig(), createMetrics('worker'));
    await ready(cache);
    await clearCache(cache);
    await upsertWarehouse(db, 'W1', 'One', { region: 'east', priority: 1, latitude: 31.2, longitude: 121.5 });
    await upsertWarehouse(db, 'W2', 'Two');
  });
  afterEach(async () => {
    expect(await mariadbDrifts(pool)).toEqual([]);
  });
  afterAll(async () => {
    cache?.redis.disconnect();
    await db?.$disconnect();
  });

  const receive = (key: string, sku: string, quantity: number, extra: object = {}, actor?: string) =>
    receiveStock(db, { idempotencyKey: key, sku, warehouseCode: 'W1', quantity, reason: 'delivery', ...extra }, actor);

  test('catalogue: upserts answer like PostgreSQL; lot tracking cannot change under stock; a rename invalidates', async () => {
    expect(await upsertWarehouse(db, 'W2', 'Two', { priority: 5 })).toEqual({
      code: 'W2',
      name: 'Two',
      region: 'default',
      priority: 5,
      latitude: null,
      longitude: null,
    });
    expect(await upsertProduct(db, 'CAT', 'Cat food')).toMatchObject({
      sku: 'CAT',
      name: 'Cat food',
      lotTracked: false,
      alertDaysBeforeExpiry: null,
    });
    expect(
      await codeOf(upsertProduct(db, 'CAT', 'Cat food', { alertDaysBeforeExpiry: 1, removalDaysBeforeExpiry: 2 })),
    ).toBe(ErrorCode.VALIDATION_FAILED);
    await receive('cat-1', 'CAT', 5);
    expect(await codeOf(upsertProduct(db, 'CAT', 'Cat food', { lotTracked: true }))).toBe(
      ErrorCode.LOT_TRACKING_LOCKED,
    );
    await pool.query("DELETE FROM cache_outbox WHERE sku = 'CAT'");
    await upsertProduct(db, 'CAT', 'Cat food 2 kg');
    await upsertProduct(db, 'CAT', 'Cat food 2 kg');
    expect((await traces(pool, 'CAT')).outbox).toBe(1);
  });

  test('a receipt replayed with its key happens once; the key with another request is refused; the ledger names the actor', async () => {
    await upsertProduct(db, 'RCV', 'Receipts');
    const first = await receive('rcv-1', 'RCV', 10, {}, 'key-7');
    expect(first).toEqual({
      sku: 'RCV',
      warehouseCode: 'W1',
      quantity: 10,
      reason: 'delivery',
      onHand: 10,
      reserved: 0,
      replayed: false,
    });
    const again = await Promise.all(Array.from({ length: 5 }, () => receive('rcv-1', 'RCV', 10, {}, 'key-8')));
    for (const r of again) expect(r).toEqual({ ...first, replayed: true });
    expect(await codeOf(receive('rcv-1', 'RCV', 11))).toBe(ErrorCode.IDEMPOTENCY_CONFLICT);
    await asSystem('seed', () => receive('rcv-2', 'RCV', 1));
    expect(await levelRow(pool, 'RCV', 'W1')).toMatchObject({ on_hand: 11 });
    const ledger = await pool.query<
      { reason: string; actor: string | null; on_hand_before: number; on_hand_after: number }[]
    >("SELECT reason, actor, on_hand_before, on_hand_after FROM stock_movements WHERE sku = 'RCV' ORDER BY id");
    expect(ledger).toEqual([
      { reason: 'RECEIVE:delivery', actor: 'key-7', on_hand_before: 0, on_hand_after: 10 },
      { reason: 'RECEIVE:delivery', actor: 'system:seed', on_hand_before: 10, on_hand_after: 11 },
    ]);
    expect(await codeOf(receive('rcv-3', 'NOPE', 1))).toBe(ErrorCode.UNKNOWN_PRODUCT);
    expect(await codeOf(receive('rcv-4', 'RCV', 1, { warehouseCode: 'NOWHERE' }))).toBe(ErrorCode.UNKNOWN_WAREHOUSE);
  });

  test('an adjustment below what is held is refused with ADJUSTMENT_REFUSED and changes nothing; a valid one applies once', async () => {
    await upsertProduct(db, 'ADJ', 'Adjust');
    await receive('adj-in', 'ADJ', 6);
    // Two units held for an order: on hand may not fall below them.
    await pool.query("UPDATE inventory_levels SET reserved = 2 WHERE sku = 'ADJ'");
    await pool.query(
      "INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta) VALUES ('ADJ', 'W1', 'RESERVE', 'o-1', 0, 2)",
    );
    const before = { level: await levelRow(pool, 'ADJ', 'W1'), traces: await traces(pool, 'ADJ') };
    const adjust = (key: string, delta: number) =>
      adjustStock(db, {
        idempotencyKey: key,
        sku: 'ADJ',
        warehouseCode: 'W1',
        delta,
        reasonCode: delta < 0 ? 'LOSS' : 'FOUND',
      });
    expect(await codeOf(adjust('adj-1', -5))).toBe(ErrorCode.ADJUSTMENT_REFUSED);
    expect({ level: await levelRow(pool, 'ADJ', 'W1'), traces: await traces(pool, 'ADJ') }).toEqual(before);
    // Refused, nothing recorded: the same key may be used for the corrected change.
    expect(await adjust('adj-1', -4)).toMatchObject({ onHand: 2, reserved: 2, replayed: false });
    expect(await adjust('adj-1', -4)).toMatchObject({ onHand: 2, replayed: true });
    expect(
      await codeOf(
        adjustStock(db, {
          idempotencyKey: 'adj-2',
          sku: 'ADJ',
          warehouseCode: 'W1',
          delta: -1,
          reasonCode: 'LOSS',
          expectedQuantity: 5,
        }),
      ),
    ).toBe(ErrorCode.STALE_QUANTITY);
    expect(await levelRow(pool, 'ADJ', 'W1')).toMatchObject({ on_hand: 2 });
  });

  test('twelve concurrent adjustments of -1 on 5 units: five apply, seven are refused with ADJUSTMENT_REFUSED, never below 0', async () => {
    await upsertProduct(db, 'RACE', 'Raced');
    await receive('race-in', 'RACE', 5);
    const codes = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        codeOf(
          adjustStock(db, {
            idempotencyKey: `race-${i}`,
            sku: 'RACE',
            warehouseCode: 'W1',
            delta: -1,
            reasonCode: 'LOSS',
          }),
        ),
      ),
    );
    expect(codes.filter((c) => c === 'resolved')).toHaveLength(5);
    expect(codes.filter((c) => c === ErrorCode.ADJUSTMENT_REFUSED)).toHaveLength(7);
    expect(await levelRow(pool, 'RACE', 'W1')).toMatchObject({ on_hand: 0 });
    expect((await traces(pool, 'RACE')).moves).toBe(6);
  });

  test('receipts into lots: concurrent receipts keep the lots summing to on hand; a lot cannot go below 0', async () => {
    await upsertProduct(db, 'LOTS', 'Lychees', {
      lotTracked: true,
      alertDaysBeforeExpiry: 3,
      removalDaysBeforeExpiry: 1,
    });
    const expiresAt = (d: number) => new Date(Date.now() + d * day).toISOString();
    const dates = [expiresAt(5), expiresAt(9)];
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        receive(`lot-${i}`, 'LOTS', 1 + (i % 3), { lotCode: `L${i % 2}`, expiresAt: dates[i % 2] }),
      ),
    );
    const [sum] = await pool.query<{ lots: number; on_hand: number }[]>(
      `SELECT (SELECT SUM(quantity) FROM stock_lots WHERE sku = 'LOTS') AS lots,
              (SELECT on_hand FROM inventory_levels WHERE sku = 'LOTS') AS on_hand`,
    );
    expect(Number(sum.lots)).toBe(24);
    expect(Number(sum.on_hand)).toBe(24);
    expect(await codeOf(receive('lot-x', 'LOTS', 1, { lotCode: 'L0', expiresAt: expiresAt(20) }))).toBe(
      ErrorCode.VALIDATION_FAILED,
    );
    expect(await codeOf(receive('lot-y', 'LOTS', 1))).toBe(ErrorCode.VALIDATION_FAILED);
    expect(
      await codeOf(
        adjustStock(db, {
          idempotencyKey: 'lot-a',
          sku: 'LOTS',
          warehouseCode: 'W1',
          delta: -13,
          reasonCode: 'LOSS',
          lotCode: 'L0',
        }),
      ),
    ).toBe(ErrorCode.ADJUSTMENT_REFUSED);
    await adjustStock(db, {
      idempotencyKey: 'lot-b',
      sku: 'LOTS',
      warehouseCode: 'W1',
      delta: -2,
      reasonCode: 'LOSS',
      lotCode: 'L0',
    });
    const view = (await readInventory(db, 'LOTS'))!;
    expect(view.total).toMatchObject({ onHand: 22, available: 22 });
    expect(view.warehouses[0].lots.map((l) => [l.lotCode, l.quantity, l.state])).toEqual([
      ['L0', 10, 'SELLABLE'],
      ['L1', 12, 'SELLABLE'],
    ]);
    // Quarantine takes a lot out of what is available; safety stock keeps units back.
    expect(
      await setLotQuarantine(db, {
        idempotencyKey: 'q-1',
        sku: 'LOTS',
        warehouseCode: 'W1',
        lotCode: 'L1',
        quarantined: true,
        reason: 'mould',
      }),
    ).toMatchObject({ quantity: 12, available: 10, replayed: false });
    expect(
      await setSafetyStock(db, { idempotencyKey: 's-1', sku: 'LOTS', warehouseCode: 'W1', safetyStock: 3 }),
    ).toMatchObject({
      previous: 0,
      safetyStock: 3,
    });
    expect((await readInventory(db, 'LOTS'))!.total).toMatchObject({
      onHand: 22,
      unsellable: 12,
      safetyStock: 3,
      available: 7,
    });
  });

  test('moves between states take only what the state holds; a write-off out of a lot keeps the lots at on hand', async () => {
    await upsertProduct(db, 'MOV', 'Moved');
    await receive('mov-in', 'MOV', 10);
    const move = (id: string, from: 'AVAILABLE' | 'DAMAGED', to: 'DAMAGED' | 'WRITE_OFF', quantity: number) =>
      moveStock(db, { moveId: id, sku: 'MOV', warehouseCode: 'W1', from, to, quantity, reason: 'dropped' });
    expect(await move('m-1', 'AVAILABLE', 'DAMAGED', 4)).toMatchObject({
      onHand: 10,
      damaged: 4,
      available: 6,
      replayed: false,
    });
    expect(await move('m-1', 'AVAILABLE', 'DAMAGED', 4)).toMatchObject({ damaged: 4, replayed: true });
    expect(await codeOf(move('m-2', 'DAMAGED', 'WRITE_OFF', 5))).toBe(ErrorCode.MOVE_REFUSED);
    expect(await codeOf(move('m-3', 'AVAILABLE', 'DAMAGED', 7))).toBe(ErrorCode.MOVE_REFUSED);
    expect(await move('m-4', 'DAMAGED', 'WRITE_OFF', 4)).toMatchObject({ onHand: 6, damaged: 0, available: 6 });
    const [ledger] = await pool.query<{ dmg: number; oh: number }[]>(
      "SELECT SUM(damaged_delta) AS dmg, SUM(on_hand_delta) AS oh FROM stock_movements WHERE sku = 'MOV'",
    );
    expect([Number(ledger.dmg), Number(ledger.oh)]).toEqual([0, 6]);

    // A lot already past its removal date (written as if received long ago) is written off once per run.
    await upsertProduct(db, 'OLD', 'Old', { lotTracked: true });
    await receive('old-in', 'OLD', 5, { lotCode: 'O1', expiresAt: new Date(Date.now() + day).toISOString() });
    await pool.query("UPDATE stock_lots SET remove_at = UTC_TIMESTAMP(3) - INTERVAL 1 HOUR WHERE sku = 'OLD'");
    expect((await readInventory(db, 'OLD'))!.total).toMatchObject({ onHand: 5, unsellable: 5, available: 0 });
    expect(await writeOffExpiredLots(db, 'run-1')).toEqual({ lots: 1, units: 5 });
    expect(await writeOffExpiredLots(db, 'run-1')).toEqual({ lots: 0, units: 0 });
    expect(await levelRow(pool, 'OLD', 'W1')).toMatchObject({ on_hand: 0 });
  });

  test('a receipt invalidates the cached availability through its outbox row and the relay, with no process listening', async () => {
    db.afterCommit = undefined;
    await upsertProduct(db, 'CACHED', 'Cached');
    await receive('c-1', 'CACHED', 4);
    await eventually(
      () => drainOnce(db, cache, 100),
      (r) => r.applied === 0 && r.retried === 0,
    );
    expect((await cache.get('CACHED'))?.view.total.available).toBe(4);
    await receive('c-2', 'CACHED', 3);
    // Committed; nothing told Redis (as if the process died): the entry is stale until the relay.
    expect((await cache.get('CACHED'))?.view.total.available).toBe(4);
    expect((await traces(pool, 'CACHED')).outbox).toBe(1);
    expect(await drainOnce(db, cache, 100)).toMatchObject({ retried: 0 });
    expect((await cache.get('CACHED'))?.view).toEqual((await loadViews(db, ['CACHED'])).get('CACHED')!.view);
    expect((await cache.get('CACHED'))?.view.total.available).toBe(7);
    expect((await traces(pool, 'CACHED')).outbox).toBe(0);
    // The committing process's own fast path drops the entry at once.
    invalidateOnCommit(db, cache);
    await receive('c-3', 'CACHED', 1);
    await eventually(
      () => readCachedAvailability(db, cache, 'CACHED'),
      (v) => v?.total.available === 8,
    );
    db.afterCommit = undefined;
  });

  test('the checker compares the cache with MariaDB, repairs a lying entry and records its checks', async () => {
    await upsertProduct(db, 'CHK', 'Checked');
    await receive('chk-1', 'CHK', 9);
    await eventually(
      () => drainOnce(db, cache, 100),
      (r) => r.applied === 0 && r.retried === 0,
    );
    await readCachedAvailability(db, cache, 'CHK');
    const log = () => undefined;
    const options = { hotPercent: 100, sample: 100, driftPercent: 100 };
    expect(await checkCache(db, cache, options, createMetrics('worker'), log)).toMatchObject({ drifted: 0 });
    // A lying entry: more than the database has, at the current version.
    const entry = (await cache.get('CHK'))!;
    await cache.redis.hset(
      cacheKey('CHK'),
      'd',
      JSON.stringify({ ...entry.view, total: { ...entry.view.total, available: 99 } }),
    );
    expect((await cache.get('CHK'))?.view.total.available).toBe(99);
    const result = await checkCache(db, cache, options, createMetrics('worker'), log);
    expect(result.drifts.map((d) => d.sku)).toEqual(['CHK']);
    expect((await cache.get('CHK'))?.view.total.available).toBe(9);
    const checks = await recentChecks(db, 5);
    expect(checks.length).toBeGreaterThanOrEqual(1);
    expect(checks[0]).toMatchObject({ rebuilt: false });
  });
});

describeMariadb('MariaDB: the cache while Redis is down', () => {
  let db: Db;
  let redis: OwnRedis;
  let cache: StockCache;

  beforeAll(async () => {
    await resetMariadb();
    db = mariadbServiceDb(6);
    redis = await startOwnRedis();
    cache = createStockCache(
      testConfig({ REDIS_URL: redis.url, CACHE_BREAKER_FAILURES: '3', CACHE_BREAKER_COOLDOWN_MS: '300' }),
      createMetrics('api'),
    );
    invalidateOnCommit(db, cache);
    await ready(cache);
    await upsertWarehouse(db, 'W1', 'One');
    await upsertProduct(db, 'DOWN', 'Down');
  });
  afterAll(async () => {
    cache?.redis.disconnect();
    await redis?.kill();
    await db?.$disconnect();
  });

  test('a receipt committed while Redis is dead reaches the cache once Redis is back: the outbox row waits, the relay applies it', async () => {
    const truth = async () => (await loadViews(db, ['DOWN'])).get('DOWN')!.view;
    await receiveStock(db, { idempotencyKey: 'd-1', sku: 'DOWN', warehouseCode: 'W1', quantity: 20, reason: 'in' });
    await eventually(
      () => drainOnce(db, cache, 100),
      (r) => r.applied === 0 && r.retried === 0,
    );
    expect(await readCachedAvailability(db, cache, 'DOWN')).toEqual(await truth());

    await redis.kill();
    await adjustStock(db, { idempotencyKey: 'd-2', sku: 'DOWN', warehouseCode: 'W1', delta: -15, reasonCode: 'LOSS' });
    // Reads answer from MariaDB meanwhile, and are right.
    expect((await readCachedAvailability(db, cache, 'DOWN'))?.total.available).toBe(5);
    expect(await drainOnce(db, cache, 100)).toMatchObject({ applied: 0 });
    const waiting = await mariadbOf(db)!.query<{ attempts: number }[]>('SELECT attempts FROM cache_outbox');
    expect(waiting.length).toBeGreaterThan(0);
    expect(waiting.every((r) => r.attempts >= 1)).toBe(true);

    await redis.start();
    await eventually(
      async () => {
        await drainOnce(db, cache, 100);
        return (await mariadbOf(db)!.query<unknown[]>('SELECT id FROM cache_outbox')).length;
      },
      (n) => n === 0,
      15_000,
    );
    // The entry Redis held before it died (20 available) is gone or replaced: never shown again.
    expect((await cache.get('DOWN'))?.view ?? (await truth())).toEqual(await truth());
    expect((await readCachedAvailability(db, cache, 'DOWN'))?.total.available).toBe(5);
  });
});

describeMariadb('MariaDB: the seed', () => {
  let db: Db;
  beforeAll(async () => {
    await resetMariadb();
    db = mariadbServiceDb(4);
  });
  afterAll(async () => {
    await db?.$disconnect();
  });

  test('seeding twice leaves the same state: products, levels, lots and ledger', async () => {
    const pool = mariadbOf(db)!;
    const state = async () => ({
      levels: await pool.query(
        'SELECT sku, warehouse_code, on_hand FROM inventory_levels ORDER BY sku, warehouse_code',
      ),
      lots: await pool.query(
        'SELECT sku, warehouse_code, lot_code, quantity, expires_at FROM stock_lots ORDER BY lot_code',
      ),
      moves: (await pool.query<unknown[]>('SELECT id FROM stock_movements')).length,
      products: (await pool.query<unknown[]>('SELECT sku FROM products')).length,
    });
    await seed(db);
    const first = await state();
    expect(first.products).toBe(4);
    expect(first.lots).toHaveLength(4);
    await seed(db);
    expect(await state()).toEqual(first);
    expect(await mariadbDrifts(pool)).toEqual([]);
  });
});

describeMariadb('MariaDB: the availability API', () => {
  const stack = useAppStack('dev', 'mariadb-stock-test', {}, undefined, 'mariadb');

  test('GET /inventory/:sku equals the levels (404 when unknown); the catalogue lists, the ledger history and the cache checks page as on PostgreSQL', async () => {
    const { db, app } = stack;
    await upsertWarehouse(db, 'W1', 'One');
    await upsertWarehouse(db, 'W2', 'Two');
    await upsertProduct(db, 'API', 'Apples');
    await receiveStock(db, { idempotencyKey: 'api-1', sku: 'API', warehouseCode: 'W1', quantity: 7, reason: 'in' });
    await receiveStock(db, { idempotencyKey: 'api-2', sku: 'API', warehouseCode: 'W2', quantity: 5, reason: 'in' });
    await setSafetyStock(db, { idempotencyKey: 'api-3', sku: 'API', warehouseCode: 'W2', safetyStock: 1 });
    const levels = await mariadbOf(db)!.query<{ warehouse_code: string; on_hand: number; safety_stock: number }[]>(
      "SELECT warehouse_code, on_hand, safety_stock FROM inventory_levels WHERE sku = 'API' ORDER BY warehouse_code",
    );
    await eventually(
      async () => (await app.inject({ url: '/inventory/API' })).json(),
      (b: { total?: { available?: number } }) => b.total?.available === 11,
    );
    const res = await app.inject({ url: '/inventory/API' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      sku: 'API',
      name: 'Apples',
      lotTracked: false,
      warehouses: levels.map((l) => ({
        warehouseCode: l.warehouse_code,
        onHand: l.on_hand,
        safetyStock: l.safety_stock,
        reserved: 0,
        available: l.on_hand - l.safety_stock,
        lots: [],
      })),
      total: { onHand: 12, reserved: 0, safetyStock: 1, available: 11 },
    });
    expect((await app.inject({ url: '/inventory/NOPE' })).json()).toMatchObject({ code: ErrorCode.SKU_NOT_FOUND });
    expect((await app.inject({ url: '/admin/cache/checks' })).statusCode).toBe(200);
    // The catalogue's lists, one keyset page at a time.
    const get = async <T>(url: string) => (await app.inject({ url })).json<{ data: T[]; nextCursor: string | null }>();
    const first = await get<{ code: string }>('/admin/warehouses?limit=1');
    expect(first.data.map((w) => w.code)).toEqual(['W1']);
    expect((await get<{ code: string }>(`/admin/warehouses?limit=1&cursor=${first.nextCursor}`)).data).toMatchObject([
      { code: 'W2', region: 'default', priority: 100 },
    ]);
    expect((await get<{ sku: string }>('/admin/products')).data).toMatchObject([{ sku: 'API', lotTracked: false }]);
    const levelPage = await get<object>('/admin/levels?sku=API&limit=1');
    expect(levelPage.data).toMatchObject([{ warehouseCode: 'W1', onHand: 7, available: 7 }]);
    expect((await get<object>(`/admin/levels?sku=API&cursor=${levelPage.nextCursor}`)).data).toMatchObject([
      { warehouseCode: 'W2', onHand: 5, safetyStock: 1, available: 4 },
    ]);
    const history = await app.inject({ url: '/admin/movements?sku=API&kind=RECEIVE&limit=1' });
    expect(history.statusCode).toBe(200);
    const page = history.json<{ data: { reference: string; kind: string }[]; nextCursor: string }>();
    expect(page.data).toMatchObject([{ reference: 'admin:api-2', kind: 'RECEIVE', txId: null }]);
    const rest = await app.inject({ url: `/admin/movements?sku=API&kind=RECEIVE&limit=5&cursor=${page.nextCursor}` });
    expect(rest.json<{ data: { reference: string }[] }>().data.map((m) => m.reference)).toEqual(['admin:api-1']);
  });
});
