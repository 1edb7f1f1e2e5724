/**
 * The TCC steps on the real PostgreSQL: atomic holds, the fences that make every step
 * happen once, and the race on the last units.
 */
import { confirmStock } from '../../data/orders/confirm';
import { releaseStock } from '../../data/orders/release';
import { reserveStock } from '../../data/orders/reservations';
import type { ReserveInput } from '../../domain/types';
import type { Db } from '../../data/db';
import { invariantViolations, level, resetDb, stock, testDb } from '../helpers/db';

let db: Db;
beforeAll(() => {
  db = testDb(40);
});
afterAll(() => db.$disconnect());
beforeEach(() => resetDb(db));

const expiresAt = new Date(Date.now() + 60_000).toISOString();
function order(id: string, lines: ReserveInput['lines'], userId = 'u1'): ReserveInput {
  return { reservationId: id, orderId: id, userId, lines, expiresAt };
}

describe('reserve', () => {
  it('holds every line and records fence, reservation and ledger in one go', async () => {
    await stock(db, 'A', 'W1', 10);
    await stock(db, 'B', 'W1', 5);
    const out = await reserveStock(
      db,
      order('o1', [
        { sku: 'A', warehouseCode: 'W1', quantity: 3 },
        { sku: 'B', warehouseCode: 'W1', quantity: 5 },
      ]),
    );
    expect(out.status).toBe('reserved');
    expect(await level(db, 'A', 'W1')).toEqual({ onHand: 10, reserved: 3 });
    expect(await level(db, 'B', 'W1')).toEqual({ onHand: 5, reserved: 5 });
    expect(await db.operationFence.count({ where: { serial: 'o1', operation: 'RESERVE' } })).toBe(1);
    expect(await invariantViolations(db)).toEqual([]);
  });

  it('merges lines of the same SKU and warehouse before holding', async () => {
    await stock(db, 'A', 'W1', 5);
    const out = await reserveStock(
      db,
      order('o1', [
        { sku: 'A', warehouseCode: 'W1', quantity: 2 },
        { sku: 'A', warehouseCode: 'W1', quantity: 3 },
      ]),
    );
    expect(out).toMatchObject({ status: 'reserved', lines: [{ sku: 'A', warehouseCode: 'W1', quantity: 5 }] });
    expect(await level(db, 'A', 'W1')).toEqual({ onHand: 5, reserved: 5 });
  });

  it('takes nothing when any line is short, and says what was short', async () => {
    await stock(db, 'A', 'W1', 10);
    await stock(db, 'B', 'W1', 1);
    const out = await reserveStock(
      db,
      order('o1', [
        { sku: 'A', warehouseCode: 'W1', quantity: 3 },
        { sku: 'B', warehouseCode: 'W1', quantity: 2 },
      ]),
    );
    expect(out).toEqual({
      status: 'rejected',
      reason: 'INSUFFICIENT_STOCK',
      shortages: [{ sku: 'B', warehouseCode: 'W1', requested: 2, available: 1 }],
    });
    expect(await level(db, 'A', 'W1')).toEqual({ onHand: 10, reserved: 0 });
    expect(await db.reservation.count()).toBe(0);
    expect(await invariantViolations(db)).toEqual([]);
  });

  it('reports an unknown SKU as short with nothing available', async () => {
    const out = await reserveStock(db, order('o1', [{ sku: 'NOPE', warehouseCode: 'W1', quantity: 1 }]));
    expect(out).toMatchObject({ status: 'rejected', shortages: [{ sku: 'NOPE', available: 0 }] });
  });

  it('returns the first outcome on a repeat, without a second hold', async () => {
    await stock(db, 'A', 'W1', 10);
    const first = await reserveStock(db, order('o1', [{ sku: 'A', warehouseCode: 'W1', quantity: 4 }]));
    const again = await Promise.all(
      [1, 2, 3].map(() => reserveStock(db, order('o1', [{ sku: 'A', warehouseCode: 'W1', quantity: 4 }]))),
    );
    for (const a of again) expect(a).toEqual(first);
    expect(await level(db, 'A', 'W1')).toEqual({ onHand: 10, reserved: 4 });
  });

  it('200 parallel reserves of 1 unit against 10 in stock: exactly 10 holds', async () => {
    await stock(db, 'HOT', 'W1', 10);
    const results = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) =>
        reserveStock(db, order(`race-${i}`, [{ sku: 'HOT', warehouseCode: 'W1', quantity: 1 }])),
      ),
    );
    const failures = results.filter((r) => r.status === 'rejected');
    expect(failures).toEqual([]); // no CHECK violation (or anything else) surfaces to a caller
    const outcomes = results.map((r) => (r as PromiseFulfilledResult<Awaited<ReturnType<typeof reserveStock>>>).value);
    expect(outcomes.filter((o) => o.status === 'reserved')).toHaveLength(10);
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(190);
    expect(await level(db, 'HOT', 'W1')).toEqual({ onHand: 10, reserved: 10 });
    expect(await db.reservation.count({ where: { status: 'RESERVED' } })).toBe(10);
    expect(await invariantViolations(db)).toEqual([]);
  });

  it('two orders locking the same rows in opposite line order do not deadlock', async () => {
    await stock(db, 'A', 'W1', 100);
    await stock(db, 'B', 'W1', 100);
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) =>
        reserveStock(
          db,
          order(
            `x-${i}`,
            i % 2
              ? [
                  { sku: 'A', warehouseCode: 'W1', quantity: 1 },
                  { sku: 'B', warehouseCode: 'W1', quantity: 1 },
                ]
              : [
                  { sku: 'B', warehouseCode: 'W1', quantity: 1 },
                  { sku: 'A', warehouseCode: 'W1', quantity: 1 },
                ],
          ),
        ),
      ),
    );
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
    expect(await level(db, 'A', 'W1')).toEqual({ onHand: 100, reserved: 40 });
  });
});

describe('confirm and release fences', () => {
  beforeEach(async () => {
    await stock(db, 'A', 'W1', 10);
    await reserveStock(db, order('o1', [{ sku: 'A', warehouseCode: 'W1', quantity: 3 }]));
  });

  it('confirm twice deducts once', async () => {
    const outs = await Promise.all([
      confirmStock(db, 'o1', 'p1'),
      confirmStock(db, 'o1', 'p1'),
      confirmStock(db, 'o1', 'p1'),
    ]);
    for (const o of outs) expect(o).toEqual({ status: 'confirmed', paymentId: 'p1' });
    expect(await level(db, 'A', 'W1')).toEqual({ onHand: 7, reserved: 0 });
    expect(await db.stockMovement.count({ where: { reference: 'o1', reason: 'CONFIRM' } })).toBe(1);
    expect(await invariantViolations(db)).toEqual([]);
  });

  it('a second, different payment gets the first payment back, not a second deduction', async () => {
    await confirmStock(db, 'o1', 'p1');
    expect(await confirmStock(db, 'o1', 'p2')).toEqual({ status: 'confirmed', paymentId: 'p1' });
    expect(await level(db, 'A', 'W1')).toEqual({ onHand: 7, reserved: 0 });
  });

  it('release twice gives back once', async () => {
    const outs = await Promise.all([releaseStock(db, 'o1', 'EXPIRED'), releaseStock(db, 'o1', 'EXPIRED')]);
    for (const o of outs) expect(o).toMatchObject({ status: 'released' });
    expect(await level(db, 'A', 'W1')).toEqual({ onHand: 10, reserved: 0 });
    expect(await db.stockMovement.count({ where: { reference: 'o1', reason: 'RELEASE' } })).toBe(1);
  });

  it('release after confirm releases nothing; confirm after release deducts nothing', async () => {
    await confirmStock(db, 'o1', 'p1');
    expect(await releaseStock(db, 'o1', 'EXPIRED')).toEqual({ status: 'already_confirmed' });
    expect(await level(db, 'A', 'W1')).toEqual({ onHand: 7, reserved: 0 });

    await reserveStock(db, order('o2', [{ sku: 'A', warehouseCode: 'W1', quantity: 2 }]));
    await releaseStock(db, 'o2', 'CANCELLED');
    expect(await confirmStock(db, 'o2', 'p2')).toEqual({ status: 'not_held', reservationStatus: 'RELEASED' });
    expect(await level(db, 'A', 'W1')).toEqual({ onHand: 7, reserved: 0 });
    expect(await invariantViolations(db)).toEqual([]);
  });

  it('release before reserve is recorded, and the later reserve is refused', async () => {
    expect(await releaseStock(db, 'o9', 'CANCELLED')).toEqual({ status: 'released_empty' });
    const late = await reserveStock(db, order('o9', [{ sku: 'A', warehouseCode: 'W1', quantity: 1 }]));
    expect(late).toEqual({ status: 'rejected', reason: 'ALREADY_RELEASED' });
    expect(await level(db, 'A', 'W1')).toEqual({ onHand: 10, reserved: 3 });
  });
});

describe('database guards', () => {
  it('CHECK constraints refuse negative and over-reserved stock', async () => {
    await stock(db, 'A', 'W1', 2);
    await expect(db.$executeRawUnsafe(`UPDATE inventory_levels SET reserved = 3 WHERE sku = 'A'`)).rejects.toThrow(
      /inventory_levels_(reserved|held_and_set_aside)_le_on_hand/,
    );
    // What is held and what is set aside (damaged, quality control) are distinct units on the shelf.
    await expect(
      db.$executeRawUnsafe(
        `UPDATE inventory_levels SET reserved = 1, damaged = 1, quality_control = 1 WHERE sku = 'A'`,
      ),
    ).rejects.toThrow(/inventory_levels_held_and_set_aside_le_on_hand/);
    await expect(db.$executeRawUnsafe(`UPDATE inventory_levels SET damaged = -1 WHERE sku = 'A'`)).rejects.toThrow(
      /inventory_levels_damaged_nonneg/,
    );
    await expect(
      db.$executeRawUnsafe(`UPDATE inventory_levels SET quality_control = -1 WHERE sku = 'A'`),
    ).rejects.toThrow(/inventory_levels_quality_control_nonneg/);
    await expect(db.$executeRawUnsafe(`UPDATE inventory_levels SET on_hand = -1 WHERE sku = 'A'`)).rejects.toThrow(
      /inventory_levels_on_hand_nonneg|violates check/,
    );
  });

  it('the ledger is append-only', async () => {
    await stock(db, 'A', 'W1', 2);
    await expect(db.$executeRawUnsafe(`UPDATE stock_movements SET on_hand_delta = 5`)).rejects.toThrow(/append-only/);
    await expect(db.$executeRawUnsafe(`DELETE FROM stock_movements`)).rejects.toThrow(/append-only/);
  });
});
