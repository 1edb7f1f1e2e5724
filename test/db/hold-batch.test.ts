/**
 * The group-commit hold (`stockhold_hold_batch`) on the real PostgreSQL, one batch at a time,
 * as the API's HoldBatcher sends it: first fit in arrival order, each item its own fence and
 * outcome, replays and released serials answered from their fences, the per-user limit inside
 * one batch, and one ledger row per hold with the level before and after it.
 */
import type { Pool as PgPool } from 'pg';
import { requestedAllocation } from '../../domain/allocation';
import type { Db } from '../../data/db';
import { createHoldPool } from '../../data/orders/request-hold';
import { invariantViolations, level, openFlashSale, resetDb, stock, testDb } from '../helpers/db';
import { TEST_DATABASE_URL } from '../helpers/env';

let db: Db;
let pool: PgPool;
beforeAll(() => {
  db = testDb();
  pool = createHoldPool(TEST_DATABASE_URL, 2);
});
afterAll(async () => {
  await pool.end();
  await db.$disconnect();
});
beforeEach(async () => {
  await resetDb(db);
  await stock(db, 'HB', 'W1', 10);
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

function item(orderId: string, quantity: number, userId = `u-${orderId}`, campaignId?: string) {
  const line = { sku: 'HB', warehouseCode: 'W1', quantity };
  const expiresAt = new Date(Date.now() + 900_000).toISOString();
  const reserved = {
    status: 'reserved',
    reservationId: orderId,
    lines: [line],
    allocations: requestedAllocation([line]),
    expiresAt,
  };
  const order = { orderId, userId, lines: [line], ...(campaignId ? { campaignId } : {}) };
  return {
    serial: orderId,
    orderId,
    userId,
    quantity,
    expiresAt,
    reserved,
    saga: { order, ttlSeconds: 900 },
    actor: 'k-test',
  };
}

type Outcome = { status: string; reason?: string; replayed?: { status: string }; shortages?: { available: number }[] };
async function batch(
  kind: 'level' | 'campaign',
  pool1: string,
  pool2: string | null,
  items: ReturnType<typeof item>[],
): Promise<Outcome[]> {
  const { rows } = await pool.query<{ outcomes: Outcome[] }>(
    'SELECT stockhold_hold_batch($1, $2, $3, $4::jsonb) AS outcomes',
    [kind, pool1, pool2, JSON.stringify(items)],
  );
  return rows[0].outcomes;
}

it('a level batch: first fit in arrival order, every outcome fenced, one ledger row per hold with the running level', async () => {
  const out = await batch('level', 'HB', 'W1', [item('a', 4), item('b', 7), item('c', 5), item('d', 1), item('e', 1)]);
  expect(out.map((o) => o.status)).toEqual(['reserved', 'rejected', 'reserved', 'reserved', 'rejected']);
  expect(out[1]).toMatchObject({ reason: 'INSUFFICIENT_STOCK', shortages: [{ available: 6 }] });
  expect(out[4]).toMatchObject({ reason: 'INSUFFICIENT_STOCK', shortages: [{ available: 0 }] });
  expect(await level(db, 'HB', 'W1')).toEqual({ onHand: 10, reserved: 10 });

  const ledger = await db.stockMovement.findMany({ where: { reason: 'RESERVE' }, orderBy: { id: 'asc' } });
  expect(ledger.map((m) => [m.reference, m.reservedBefore, m.reservedAfter, m.actor])).toEqual([
    ['a', 0, 4, 'k-test'],
    ['c', 4, 9, 'k-test'],
    ['d', 9, 10, 'k-test'],
  ]);
  const holds = await db.reservation.findMany({ orderBy: { id: 'asc' }, include: { lines: true } });
  expect(holds.map((h) => [h.id, h.status, h.lines[0].quantity])).toEqual([
    ['a', 'RESERVED', 4],
    ['c', 'RESERVED', 5],
    ['d', 'RESERVED', 1],
  ]);
  const sagas = await db.sagaStart.findMany({ orderBy: { orderId: 'asc' } });
  expect(
    sagas.map((s) => [s.orderId, (s.input as { reservation: { reservationId: string } }).reservation.reservationId]),
  ).toEqual([
    ['a', 'a'],
    ['c', 'c'],
    ['d', 'd'],
  ]);
  expect(await db.operationFence.count({ where: { operation: 'RESERVE' } })).toBe(5);

  // The same serials again (stock freed meanwhile): each answered from its fence, nothing new taken.
  await db.$executeRaw`UPDATE inventory_levels SET on_hand = on_hand + 0`;
  const again = await batch('level', 'HB', 'W1', [item('b', 7), item('a', 4), item('f', 1)]);
  expect(again[0]).toEqual({ replayed: expect.objectContaining({ status: 'rejected', reason: 'INSUFFICIENT_STOCK' }) });
  expect(again[1]).toEqual({ replayed: expect.objectContaining({ status: 'reserved', reservationId: 'a' }) });
  expect(again[2]).toMatchObject({ status: 'rejected', reason: 'INSUFFICIENT_STOCK' });
  expect(await db.stockMovement.count({ where: { reason: 'RESERVE' } })).toBe(3);
  expect(await db.sagaStart.count()).toBe(3);
});

it('a serial whose release is recorded is refused, and a recorded reserve wins over its release', async () => {
  await db.$executeRaw`INSERT INTO operation_fences (serial, operation, outcome) VALUES ('gone', 'RELEASE', '{}'::jsonb)`;
  const out = await batch('level', 'HB', 'W1', [item('gone', 1), item('ok', 1)]);
  expect(out[0]).toEqual({ status: 'rejected', reason: 'ALREADY_RELEASED' });
  expect(out[1]).toMatchObject({ status: 'reserved' });
  await db.$executeRaw`INSERT INTO operation_fences (serial, operation, outcome) VALUES ('ok', 'RELEASE', '{}'::jsonb)`;
  const replay = await batch('level', 'HB', 'W1', [item('ok', 1)]);
  expect(replay[0]).toEqual({ replayed: expect.objectContaining({ status: 'reserved' }) });
  expect(await level(db, 'HB', 'W1')).toEqual({ onHand: 10, reserved: 1 });
});

it('a campaign batch: the per-user limit inside one batch, the pool first fit, a pool refusal gives the user count back', async () => {
  await openFlashSale(db, 'hb', 'HB', 'W1', 5, 2);
  const out = await batch('campaign', 'hb', null, [
    item('x1', 2, 'ann', 'hb'),
    item('x2', 1, 'ann', 'hb'), // over ann's limit of 2
    item('x3', 3, 'bob', 'hb'), // over the per-user limit on its own
    item('x4', 2, 'cat', 'hb'),
    item('x5', 2, 'dan', 'hb'), // the pool has 1 left: sold out, dan's count given back
    item('x6', 1, 'eve', 'hb'),
  ]);
  expect(out.map((o) => o.reason ?? o.status)).toEqual([
    'reserved',
    'LIMIT_REACHED',
    'LIMIT_REACHED',
    'reserved',
    'SOLD_OUT',
    'reserved',
  ]);
  const counts = await db.campaignUserCount.findMany({ where: { campaignId: 'hb' }, orderBy: { userId: 'asc' } });
  expect(counts.map((c) => [c.userId, c.quantity])).toEqual([
    ['ann', 2],
    ['cat', 2],
    ['dan', 0],
    ['eve', 1],
  ]);
  const campaign = await db.campaign.findUniqueOrThrow({ where: { id: 'hb' } });
  expect(campaign.remaining).toBe(0);
  const holds = await db.reservation.findMany({ orderBy: { id: 'asc' } });
  expect(holds.map((h) => [h.id, h.campaignId])).toEqual([
    ['x1', 'hb'],
    ['x4', 'hb'],
    ['x6', 'hb'],
  ]);
  expect(await db.sagaStart.count()).toBe(3);
  // Sold out now: refused without taking the pool's lock; nothing more recorded but the fence.
  const late = await batch('campaign', 'hb', null, [item('x7', 1, 'fay', 'hb')]);
  expect(late[0]).toEqual({ status: 'rejected', reason: 'SOLD_OUT' });
  expect(await db.campaignUserCount.count({ where: { userId: 'fay' } })).toBe(0);
});

it('several batches in flight on one hot row (as from several API processes): exactly the stock held, no deadlock, every hold fenced', async () => {
  const { HoldBatcher } = await import('../../data/orders/request-hold');
  await stock(db, 'HB2', 'W1', 300);
  await openFlashSale(db, 'hb2', 'HB2', 'W1', 100, 3);
  const wide = createHoldPool(TEST_DATABASE_URL, 8);
  try {
    const batchers = [new HoldBatcher(db, wide, 40, 4), new HoldBatcher(db, wide, 40, 4)];
    const asLevel = (i: number) => ({
      ...item(`lv-${i}`, 1 + (i % 2)),
      reserved: {
        ...item(`lv-${i}`, 1 + (i % 2)).reserved,
        lines: [{ sku: 'HB2', warehouseCode: 'W1', quantity: 1 + (i % 2) }],
      },
    });
    const results = await Promise.all([
      ...Array.from({ length: 400 }, (_, i) =>
        batchers[i % 2].hold(
          { kind: 'campaign', campaignId: 'hb2' },
          item(`cp-${i}`, 1, `cu-${i % 150}`, 'hb2') as never,
        ),
      ),
      ...Array.from({ length: 300 }, (_, i) =>
        batchers[i % 2].hold({ kind: 'level', sku: 'HB2', warehouseCode: 'W1' }, asLevel(i) as never),
      ),
    ]);
    const campaignHeld = results.slice(0, 400).filter((r) => r.outcome.status === 'reserved').length;
    const levelHeld = results.slice(400).filter((r) => r.outcome.status === 'reserved');
    expect(campaignHeld).toBe(100);
    // 200 units outside the campaign's 100, taken by orders of 1 and 2.
    const levelUnits = levelHeld.reduce(
      (n, r) => n + (r.outcome.status === 'reserved' ? r.outcome.lines[0].quantity : 0),
      0,
    );
    expect(levelUnits).toBe(200);
    expect(await level(db, 'HB2', 'W1')).toEqual({ onHand: 300, reserved: 300 });
    expect(await db.operationFence.count({ where: { operation: 'RESERVE', serial: { startsWith: 'cp-' } } })).toBe(400);
    const counts = await db.campaignUserCount.findMany({ where: { campaignId: 'hb2' } });
    expect(counts.reduce((n, c) => n + c.quantity, 0)).toBe(100);
    expect(Math.max(...counts.map((c) => c.quantity))).toBeLessThanOrEqual(3);
  } finally {
    await wide.end();
  }
});
