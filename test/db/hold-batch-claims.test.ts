/**
 * How the hold batch makes a serial exclusive without a lock per serial (issue 16, item 11):
 * the holds' and fences' own keys are the claim. A batch holds a fixed number of lock-table
 * entries whatever its size; two batches (two API processes) on one serial end with one hold
 * and one answer; an empty release racing a batch either releases the hold or refuses it.
 */
import { Client, type Pool as PgPool } from 'pg';
import { requestedAllocation } from '../../domain/allocation';
import type { Db } from '../../data/db';
import { releaseInTx } from '../../data/orders/release';
import { assertSameOrder, createHoldPool, HoldBatcher } from '../../data/orders/request-hold';
import { invariantViolations, level, resetDb, stock, testDb } from '../helpers/db';
import { TEST_DATABASE_URL } from '../helpers/env';
import { blockLevel } from '../helpers/locks';

let db: Db;
let pool: PgPool;
let watcher: Client;
beforeAll(async () => {
  db = testDb();
  pool = createHoldPool(TEST_DATABASE_URL, 8);
  watcher = new Client({ connectionString: TEST_DATABASE_URL });
  await watcher.connect();
});
afterAll(async () => {
  await watcher.end();
  await pool.end();
  await db.$disconnect();
});
beforeEach(async () => {
  await resetDb(db);
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

function item(orderId: string, sku: string, quantity = 1, userId = `u-${orderId}`) {
  const line = { sku, warehouseCode: 'W1', quantity };
  const expiresAt = new Date(Date.now() + 900_000).toISOString();
  const reserved = {
    status: 'reserved',
    reservationId: orderId,
    lines: [line],
    allocations: requestedAllocation([line]),
    expiresAt,
  };
  const order = { orderId, userId, lines: [line] };
  return { serial: orderId, orderId, userId, quantity, expiresAt, reserved, saga: { order, ttlSeconds: 900 } };
}
type Outcome = { status?: string; reason?: string; replayed?: { status: string; reason?: string } };
const batch = async (sku: string, items: ReturnType<typeof item>[]): Promise<Outcome[]> =>
  (
    await pool.query<{ o: Outcome[] }>(`SELECT stockhold_hold_batch('level', $1, 'W1', $2::jsonb) AS o`, [
      sku,
      JSON.stringify(items),
    ])
  ).rows[0].o;

/** Backends running the hold batch that wait on a lock: their pids. */
async function waitingBatches(): Promise<number[]> {
  const { rows } = await watcher.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%stockhold_hold_batch%'`,
  );
  return rows.map((r) => r.pid);
}

it('a batch holds a bounded number of lock-table entries, whatever its size: six batches of 500 at once', async () => {
  await stock(db, 'LK', 'W1', 2000);
  const blocker = await blockLevel('LK', 'W1');
  // Six batches of 500 new serials (three replicas × HOLD_BATCHES_IN_FLIGHT 2), all queued on the
  // level row: the point where a batch holds the most (before, its 500 serial locks).
  const running = Array.from({ length: 6 }, (_, b) =>
    batch(
      'LK',
      Array.from({ length: 500 }, (_, i) => item(`lk-${b}-${i}`, 'LK')),
    ),
  );
  await blocker.waiters(6);
  const pids = await waitingBatches();
  const { rows } = await watcher.query<{ pid: number; granted: number; advisory: number }>(
    `SELECT pid, count(*) FILTER (WHERE granted)::int AS granted, count(*) FILTER (WHERE locktype = 'advisory')::int AS advisory
       FROM pg_locks WHERE pid = ANY($1::int[]) GROUP BY pid`,
    [pids],
  );
  await blocker.release();
  expect(rows).toHaveLength(6);
  for (const r of rows) {
    expect(r.advisory).toBe(0);
    // Relation locks on the tables and indexes it touched, its transaction id: a few dozen at most.
    expect(r.granted).toBeLessThan(40);
  }
  const outcomes = (await Promise.all(running)).flat();
  expect(outcomes.filter((o) => o.status === 'reserved')).toHaveLength(2000);
  expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(1000);
  expect(await level(db, 'LK', 'W1')).toEqual({ onHand: 2000, reserved: 2000 });
  expect(await db.operationFence.count({ where: { operation: 'RESERVE' } })).toBe(3000);
});

it('one serial in two batches at once (two API processes, two pools): one hold; the other gets its outcome and gives back what it took', async () => {
  await stock(db, 'RA', 'W1', 5);
  await stock(db, 'RB', 'W1', 5);
  const blocker = await blockLevel('RA', 'W1');
  // A decides on RA after the row lock (past its fence look-up); B takes the same serial meanwhile.
  const a = batch('RA', [item('twice', 'RA', 2), item('a-other', 'RA', 1)]);
  await blocker.waiters(1);
  const b = await batch('RB', [item('twice', 'RB', 3)]);
  expect(b[0]).toMatchObject({ status: 'reserved' });
  await blocker.release();
  const [twice, other] = await a;
  expect(twice).toEqual({
    replayed: expect.objectContaining({
      status: 'reserved',
      lines: [expect.objectContaining({ sku: 'RB', quantity: 3 })],
    }),
  });
  expect(other).toMatchObject({ status: 'reserved' });
  expect(await level(db, 'RA', 'W1')).toEqual({ onHand: 5, reserved: 1 });
  expect(await level(db, 'RB', 'W1')).toEqual({ onHand: 5, reserved: 3 });
  const holds = await db.reservation.findMany({ include: { lines: true }, orderBy: { id: 'asc' } });
  expect(holds.map((h) => [h.id, h.lines.map((l) => `${l.sku}:${l.quantity}`).join()])).toEqual([
    ['a-other', 'RA:1'],
    ['twice', 'RB:3'],
  ]);
  expect(await db.stockMovement.count({ where: { reference: 'twice' } })).toBe(1);
  expect(await db.sagaStart.count({ where: { orderId: 'twice' } })).toBe(1);
});

it('an empty release racing a batch on the same serial: the batch waits for it and is refused ALREADY_RELEASED, taking nothing', async () => {
  await stock(db, 'RL', 'W1', 5);
  let commitRelease!: () => void;
  let released!: () => void;
  const [gate, decided] = [new Promise<void>((r) => (commitRelease = r)), new Promise<void>((r) => (released = r))];
  const release = db.$transaction(async (tx) => {
    const outcome = await releaseInTx(tx, 'raced', 'CANCELLED');
    released();
    await gate; // decided, not committed: the batch must wait for it
    return outcome;
  });
  await decided;
  const held = batch('RL', [item('raced', 'RL', 2), item('bystander', 'RL', 1)]);
  for (let i = 0; i < 500 && (await waitingBatches()).length === 0; i++) await new Promise((r) => setTimeout(r, 20));
  expect(await waitingBatches()).toHaveLength(1);
  commitRelease();
  expect(await release).toEqual({ status: 'released_empty' });
  const [raced, bystander] = await held;
  expect(raced).toEqual({ replayed: { status: 'rejected', reason: 'ALREADY_RELEASED' } });
  expect(bystander).toMatchObject({ status: 'reserved' });
  expect(await level(db, 'RL', 'W1')).toEqual({ onHand: 5, reserved: 1 });
  expect(await db.reservation.count({ where: { id: 'raced' } })).toBe(0);
  expect(await db.sagaStart.count({ where: { orderId: 'raced' } })).toBe(0);
});

it('the same order id twice in one batch: the first body wins, the same body is a replay, another body is ORDER_CONFLICT', async () => {
  await stock(db, 'DUP', 'W1', 10);
  const batcher = new HoldBatcher(db, pool, 100, 1);
  const row = { kind: 'level' as const, sku: 'DUP', warehouseCode: 'W1' };
  const blocker = await blockLevel('DUP', 'W1');
  // A lone order goes at once and waits on the row; everything after it queues into one batch.
  const lone = batcher.hold(row, item('lone', 'DUP') as never);
  await blocker.waiters(1);
  const bodies = [
    item('dup', 'DUP', 2),
    item('dup', 'DUP', 2),
    item('dup', 'DUP', 5),
    item('dup', 'DUP', 2, 'mallory'),
  ];
  const answers = bodies.map((b) => batcher.hold(row, b as never));
  await blocker.release();
  expect((await lone).outcome).toMatchObject({ status: 'reserved' });
  const results = await Promise.all(answers);
  expect(results.map((r) => [r.outcome.status, r.replayed])).toEqual([
    ['reserved', false],
    ['reserved', true],
    ['reserved', true],
    ['reserved', true],
  ]);
  const checks = await Promise.allSettled(bodies.map((b, i) => assertSameOrder(db, b.saga.order, results[i])));
  expect(checks.map((c) => (c.status === 'fulfilled' ? 'ok' : (c.reason as { code: string }).code))).toEqual([
    'ok',
    'ok',
    'ORDER_CONFLICT',
    'ORDER_CONFLICT',
  ]);
  // Held once, as the first caller asked: 2 units for its user; one saga input, the first body.
  expect(await level(db, 'DUP', 'W1')).toEqual({ onHand: 10, reserved: 3 });
  expect(await db.reservation.findUniqueOrThrow({ where: { id: 'dup' }, include: { lines: true } })).toMatchObject({
    userId: 'u-dup',
    lines: [{ quantity: 2 }],
  });
  const saga = await db.sagaStart.findUniqueOrThrow({ where: { orderId: 'dup' } });
  expect(saga.input).toMatchObject({ order: { userId: 'u-dup', lines: [{ quantity: 2 }] } });
});
