/**
 * Reconciliation's AVAILABLE_NEGATIVE check (issue 8, item 7): a level holding more than it
 * may sell is reported, planted here by direct SQL as a hand edit or a lost race would leave
 * it; a lot that merely passed its removal date while its units were held is not drift.
 */
import type { Db } from '../../data/db';
import { findDrifts, reconcile } from '../../data/stock/reconcile';
import { releaseStock } from '../../data/orders/release';
import { reserveStock } from '../../data/orders/reservations';
import { invariantViolations, perishable, receiveLot, resetDb, stock, testDb } from '../helpers/db';

let db: Db;
beforeAll(() => {
  db = testDb(5);
});
afterAll(() => db.$disconnect());
beforeEach(() => resetDb(db));
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const hold = (id: string, sku: string, quantity: number) =>
  reserveStock(db, {
    reservationId: id,
    orderId: id,
    userId: 'u1',
    lines: [{ sku, warehouseCode: 'W1', quantity }],
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
  });

describe('AVAILABLE_NEGATIVE', () => {
  it('reports a level whose holds exceed its sellable stock (lot quarantined behind the guard)', async () => {
    await perishable(db, 'BERRY');
    await receiveLot(db, 'BERRY', 'W1', 'BAD', 5, 10);
    await receiveLot(db, 'BERRY', 'W1', 'GOOD', 5, 12);
    await hold('o1', 'BERRY', 10);
    expect(await findDrifts(db)).toEqual({ levelsChecked: 1, drifts: [] });
    await db.$executeRaw`UPDATE stock_lots SET quarantined = true WHERE lot_code = 'BAD'`;
    const report = await reconcile(db);
    expect(report).toMatchObject({ clean: false, levelsChecked: 1 });
    expect(report.drifts).toEqual([
      { check: 'AVAILABLE_NEGATIVE', sku: 'BERRY', warehouseCode: 'W1', lotCode: null, recorded: -5, expected: 0 },
    ]);
    await releaseStock(db, 'o1', 'CANCELLED');
  });

  it('counts safety stock: holds that ate into it are reported', async () => {
    await stock(db, 'A', 'W1', 10);
    await hold('o1', 'A', 8);
    await db.$executeRaw`UPDATE inventory_levels SET safety_stock = 3 WHERE sku = 'A'`;
    expect((await findDrifts(db)).drifts).toEqual([
      { check: 'AVAILABLE_NEGATIVE', sku: 'A', warehouseCode: 'W1', lotCode: null, recorded: -1, expected: 0 },
    ]);
    await db.$executeRaw`UPDATE inventory_levels SET safety_stock = 2 WHERE sku = 'A'`;
  });

  it('ignores a safety stock above on-hand while nothing is held: unsellable, not oversold', async () => {
    await stock(db, 'A', 'W1', 10);
    await db.$executeRaw`UPDATE inventory_levels SET safety_stock = 40000 WHERE sku = 'A'`;
    expect((await findDrifts(db)).drifts).toEqual([]);
    await db.$executeRaw`UPDATE inventory_levels SET safety_stock = 0 WHERE sku = 'A'`;
  });

  it('ignores a held lot that passed its removal date afterwards: no write, no oversell', async () => {
    await perishable(db, 'BERRY');
    await receiveLot(db, 'BERRY', 'W1', 'OLD', 5, 10);
    await hold('o1', 'BERRY', 5);
    await db.$executeRaw`
      UPDATE stock_lots SET expires_at = now() - interval '1 hour', remove_at = now() - interval '1 day', alert_at = now() - interval '3 days'`;
    const [guard] = await db.$queryRaw<{ available: number }[]>`
      SELECT stockhold_available(inventory_levels) AS available FROM inventory_levels`;
    expect(guard.available).toBe(-5); // the reserve guard would refuse more, rightly
    expect((await findDrifts(db)).drifts).toEqual([]);
  });
});
