/** The demo data: idempotent, consistent, and showing what the README promises. */
import type { Db } from '../../data/db';
import { readInventory } from '../../data/stock/inventory-view';
import { seed } from '../../prisma/seed';
import { invariantViolations, resetDb, testDb } from '../helpers/db';

let db: Db;
beforeAll(() => {
  db = testDb(4);
});
afterAll(() => db.$disconnect());

it('seeds two placed warehouses and a perishable with lots near and past expiry, twice alike', async () => {
  await resetDb(db);
  await seed(db);
  const movements = await db.stockMovement.count();
  await seed(db);
  expect(await db.stockMovement.count()).toBe(movements);
  expect(
    await db.warehouse.findMany({ select: { code: true, region: true, priority: true }, orderBy: { priority: 'asc' } }),
  ).toEqual([
    { code: 'SH-01', region: 'shanghai', priority: 1 },
    { code: 'HZ-01', region: 'zhejiang', priority: 2 },
  ]);
  const lychee = (await readInventory(db, 'LYCHEE-1KG'))!;
  expect(lychee.lotTracked).toBe(true);
  const states = lychee.warehouses.flatMap((w) => w.lots.map((l) => l.state)).sort();
  expect(states).toEqual(['EXPIRED', 'NEAR_EXPIRY', 'SELLABLE', 'SELLABLE']);
  expect(await invariantViolations(db)).toEqual([]);
});
