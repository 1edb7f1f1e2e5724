/**
 * The SQL functions kept as files (prisma/functions/*.sql) on the real PostgreSQL: each error
 * code a function raises is decoded in one place (data/sql-errors.ts) into the domain error it
 * means, through either client (node-postgres for the hold batch's own pool, Prisma over the pg
 * adapter), and the table there lists exactly the codes the files raise; availability, defined
 * once as stockhold_available, is inlined by the planner (the hot path pays nothing for it).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Pool as PgPool } from 'pg';
import { requestedAllocation } from '../../domain/allocation';
import { DomainError } from '../../domain/errors';
import { pgFaultOf } from '../../data/data-errors';
import type { Db } from '../../data/db';
import { AVAILABLE } from '../../data/stock/level-sql';
import { createHoldPool, HoldBatcher } from '../../data/orders/request-hold';
import { SQL_FUNCTION_ERRORS, sqlFunctionError } from '../../data/sql-errors';
import { listFunctions } from '../../prisma/functions';
import { level, openFlashSale, resetDb, stock, testDb } from '../helpers/db';
import { TEST_DATABASE_URL } from '../helpers/env';

let db: Db;
let pool: PgPool;
beforeAll(() => {
  db = testDb(2);
  pool = createHoldPool(TEST_DATABASE_URL, 2);
});
afterAll(async () => {
  await pool.end();
  await db.$disconnect();
});
beforeEach(async () => {
  await resetDb(db);
  await stock(db, 'SF', 'W1', 10);
});

function item(orderId: string, quantity: number, sku = 'SF', warehouseCode = 'W1') {
  const line = { sku, warehouseCode, quantity };
  const expiresAt = new Date(Date.now() + 900_000).toISOString();
  const reserved = {
    status: 'reserved' as const,
    reservationId: orderId,
    lines: [line],
    allocations: requestedAllocation([line]),
    expiresAt,
  };
  const order = { orderId, userId: `u-${orderId}`, lines: [line] };
  return {
    serial: orderId,
    orderId,
    userId: `u-${orderId}`,
    quantity,
    expiresAt,
    reserved,
    saga: { order, ttlSeconds: 900 },
  };
}

/** The hold batch's failure, as node-postgres raises it. */
async function batchError(kind: string, p1: string, p2: string | null, items: unknown[]): Promise<unknown> {
  return pool.query('SELECT stockhold_hold_batch($1, $2, $3, $4::jsonb)', [kind, p1, p2, JSON.stringify(items)]).then(
    () => undefined,
    (err: unknown) => err,
  );
}

/** The same failure through Prisma over the pg driver adapter. */
async function batchErrorViaPrisma(kind: string, p1: string, p2: string | null, items: unknown[]): Promise<unknown> {
  return db.$queryRaw`SELECT stockhold_hold_batch(${kind}, ${p1}, ${p2}, ${JSON.stringify(items)}::jsonb)::text`.then(
    () => undefined,
    (err: unknown) => err,
  );
}

describe('error codes of the SQL functions, decoded in data/sql-errors.ts', () => {
  it.each([
    [
      'SH001',
      'CAMPAIGN_NOT_FOUND',
      'no campaign no-such-campaign',
      undefined,
      'campaign',
      'no-such-campaign',
      null,
      [item('c1', 1)],
    ],
    ['SH002', 'UNKNOWN_PRODUCT', 'no product NOPE', { sku: 'NOPE' }, 'level', 'NOPE', 'W1', [item('p1', 1, 'NOPE')]],
    [
      'SH003',
      'UNKNOWN_WAREHOUSE',
      'no warehouse W9',
      { warehouseCode: 'W9' },
      'level',
      'SF',
      'W9',
      [item('w1', 1, 'SF', 'W9')],
    ],
  ])(
    '%s: the hold batch refuses the whole batch; decoded as %s from either client',
    async (sqlState, code, message, details, kind, p1, p2, items) => {
      const raw = await batchError(kind, p1, p2, items);
      // The message kept its text: a replica of the version before, decoding by text, answers the same during a rolling deploy.
      expect(String(raw)).toContain(code);
      for (const err of [raw, await batchErrorViaPrisma(kind, p1, p2, items)]) {
        expect(pgFaultOf(err)?.sqlState).toBe(sqlState);
        const decoded = sqlFunctionError(err);
        expect(decoded).toBeInstanceOf(DomainError);
        expect([decoded?.code, decoded?.message, decoded?.details]).toEqual([code, message, details]);
      }
      expect(await db.operationFence.count({ where: { operation: 'RESERVE' } })).toBe(0);
    },
  );

  it('the HoldBatcher answers them as the domain errors (what the API turns into 404s)', async () => {
    const batcher = new HoldBatcher(db, pool);
    const i = item('hb1', 1, 'NOPE');
    await expect(batcher.hold({ kind: 'level', sku: 'NOPE', warehouseCode: 'W1' }, i)).rejects.toMatchObject({
      code: 'UNKNOWN_PRODUCT',
      message: 'no product NOPE',
      details: { sku: 'NOPE' },
    });
    await expect(batcher.hold({ kind: 'campaign', campaignId: 'gone' }, item('hb2', 1))).rejects.toMatchObject({
      code: 'CAMPAIGN_NOT_FOUND',
      message: 'no campaign gone',
    });
  });

  it('SH004 (a serial twice in one batch) and SH005 (a hold without its fence) are bugs: recognised, not decoded, nothing recorded', async () => {
    const twice = await batchError('level', 'SF', 'W1', [item('d1', 1), item('d1', 2)]);
    expect([pgFaultOf(twice)?.sqlState, sqlFunctionError(twice)]).toEqual(['SH004', undefined]);

    // A hold row with no fence: no path writes one (the hold and its fence commit together).
    await db.$executeRaw`INSERT INTO reservations (id, order_id, user_id, status, expires_at) VALUES ('r1', 'r1', 'u', 'RESERVED', now())`;
    const race = await batchError('level', 'SF', 'W1', [item('r1', 1)]);
    expect([pgFaultOf(race)?.sqlState, sqlFunctionError(race)]).toEqual(['SH005', undefined]);
    expect(await db.operationFence.count({ where: { operation: 'RESERVE' } })).toBe(0);
    expect(await level(db, 'SF', 'W1')).toEqual({ onHand: 10, reserved: 0 });
    await db.$executeRaw`DELETE FROM reservations WHERE id = 'r1'`;
  });

  it("a batch's refusals stay outcomes, never errors", async () => {
    await openFlashSale(db, 'fs', 'SF', 'W1', 2, 1);
    const { rows } = await pool.query<{ o: { status: string; reason?: string }[] }>(
      `SELECT stockhold_hold_batch('campaign', 'fs', NULL, $1::jsonb) AS o`,
      [JSON.stringify([item('f1', 1), item('f2', 3)])],
    );
    expect(rows[0].o.map((o) => o.reason ?? o.status)).toEqual(['reserved', 'SOLD_OUT']);
  });

  it('the table lists exactly the SH codes the function files raise', () => {
    const raised = new Set<string>();
    for (const f of listFunctions())
      for (const m of f.sql.matchAll(/ERRCODE\s*=\s*'(SH[0-9A-Z]{3})'/g)) raised.add(m[1]);
    expect([...raised].sort()).toEqual(Object.keys(SQL_FUNCTION_ERRORS).sort());
    // And each is named in its file's header.
    const hold = readFileSync(path.join(__dirname, '../../prisma/functions/stockhold_hold_batch.sql'), 'utf8');
    for (const code of raised) expect(hold.split('CREATE OR REPLACE')[0]).toContain(code);
  });
});

describe('availability, defined once (stockhold_available)', () => {
  it("is inlined by the planner: the guard's statement evaluates the bare expression, no call per row", async () => {
    const plan = (
      await db.$queryRaw<{ 'QUERY PLAN': string }[]>`
      EXPLAIN VERBOSE UPDATE inventory_levels SET reserved = reserved + 1
       WHERE sku = 'SF' AND warehouse_code = 'W1' AND ${AVAILABLE} >= 1`
    )
      .map((r) => r['QUERY PLAN'])
      .join('\n');
    expect(plan).not.toContain('stockhold_available');
    expect(plan).toContain(
      '(((((inventory_levels.on_hand - inventory_levels.reserved) - inventory_levels.safety_stock) - inventory_levels.damaged) - inventory_levels.quality_control) - unsellable_quantity(',
    );
  });

  it('is what the TypeScript fragment and the hold batch both answer with', async () => {
    await db.$executeRaw`UPDATE inventory_levels SET safety_stock = 2 WHERE sku = 'SF'`;
    const [{ available }] = await db.$queryRaw<
      { available: number }[]
    >`SELECT ${AVAILABLE} AS available FROM inventory_levels WHERE sku = 'SF'`;
    expect(available).toBe(8);
    const { rows } = await pool.query<{ o: { shortages?: { available: number }[] }[] }>(
      `SELECT stockhold_hold_batch('level', 'SF', 'W1', $1::jsonb) AS o`,
      [JSON.stringify([item('a1', 9)])],
    );
    expect(rows[0].o[0].shortages?.[0].available).toBe(8);
    // Damaged and quality-control units are on hand, not sellable: both paths subtract them.
    await db.$executeRaw`UPDATE inventory_levels SET damaged = 1, quality_control = 2 WHERE sku = 'SF'`;
    const [after] = await db.$queryRaw<
      { available: number }[]
    >`SELECT ${AVAILABLE} AS available FROM inventory_levels WHERE sku = 'SF'`;
    expect(after.available).toBe(5);
    const batch = await pool.query<{ o: { shortages?: { available: number }[] }[] }>(
      `SELECT stockhold_hold_batch('level', 'SF', 'W1', $1::jsonb) AS o`,
      [JSON.stringify([item('a2', 6)])],
    );
    expect(batch.rows[0].o[0].shortages?.[0].available).toBe(5);
    await db.$executeRaw`UPDATE inventory_levels SET damaged = 0, quality_control = 0, safety_stock = 0 WHERE sku = 'SF'`;
  });
});
