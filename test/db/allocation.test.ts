/**
 * Allocation inside the reserve transaction on the real PostgreSQL: the plan is taken whole
 * or not at all, its explanation is recorded, and racing orders across two warehouses never
 * take more than either holds.
 */
import { upsertWarehouse } from '../../data/stock/catalog';
import type { Db } from '../../data/db';
import { reserveStock } from '../../data/orders/reservations';
import type { ReserveInput } from '../../domain/types';
import { invariantViolations, level, resetDb, stock, testDb } from '../helpers/db';

let db: Db;
beforeAll(() => {
  db = testDb(40);
});
afterAll(() => db.$disconnect());
beforeEach(async () => {
  await resetDb(db);
  await stock(db, 'A', 'EAST', 10);
  await stock(db, 'A', 'WEST', 10);
  await upsertWarehouse(db, 'EAST', 'East', { region: 'east', priority: 1 });
  await upsertWarehouse(db, 'WEST', 'West', { region: 'west', priority: 2 });
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const expiresAt = new Date(Date.now() + 60_000).toISOString();
function order(id: string, quantity: number, allocation: ReserveInput['allocation'] = {}): ReserveInput {
  return { reservationId: id, orderId: id, userId: 'u1', lines: [{ sku: 'A', quantity }], allocation, expiresAt };
}

it('places an unplaced line by priority and records why on the reservation', async () => {
  const out = await reserveStock(db, order('o1', 4));
  expect(out).toMatchObject({
    status: 'reserved',
    lines: [{ sku: 'A', warehouseCode: 'EAST', quantity: 4 }],
    allocations: [{ sku: 'A', warehouseCode: 'EAST', quantity: 4, reason: 'PRIORITY', split: false }],
  });
  const row = await db.reservation.findUniqueOrThrow({ where: { id: 'o1' } });
  expect(row.allocation).toEqual(out.status === 'reserved' && out.allocations);
  expect(await level(db, 'A', 'EAST')).toEqual({ onHand: 10, reserved: 4 });
});

it('the delivery region wins over priority', async () => {
  const out = await reserveStock(db, order('o1', 4, { deliveryRegion: 'west' }));
  expect(out).toMatchObject({ status: 'reserved', allocations: [{ warehouseCode: 'WEST', reason: 'REGION' }] });
});

it('safety stock is not available: the next warehouse takes the line', async () => {
  await db.inventoryLevel.update({
    where: { sku_warehouseCode: { sku: 'A', warehouseCode: 'EAST' } },
    data: { safetyStock: 8 },
  });
  const out = await reserveStock(db, order('o1', 4));
  expect(out).toMatchObject({ status: 'reserved', lines: [{ warehouseCode: 'WEST', quantity: 4 }] });
});

it('no split: refused as a whole with nothing held; split: held across both', async () => {
  const refused = await reserveStock(db, order('o1', 15));
  expect(refused).toEqual({
    status: 'rejected',
    reason: 'INSUFFICIENT_STOCK',
    shortages: [{ sku: 'A', requested: 15, available: 10 }],
  });
  expect(await db.reservation.count()).toBe(0);
  const split = await reserveStock(db, order('o2', 15, { allowSplit: true }));
  expect(split).toMatchObject({
    status: 'reserved',
    lines: [
      { warehouseCode: 'EAST', quantity: 10 },
      { warehouseCode: 'WEST', quantity: 5 },
    ],
    allocations: [{ split: true }, { split: true }],
  });
  expect(await level(db, 'A', 'EAST')).toEqual({ onHand: 10, reserved: 10 });
  expect(await level(db, 'A', 'WEST')).toEqual({ onHand: 10, reserved: 5 });
});

it('60 racing 1-unit orders over two warehouses of 10: exactly 20 held, neither over', async () => {
  const outs = await Promise.all(Array.from({ length: 60 }, (_, i) => reserveStock(db, order(`r-${i}`, 1))));
  expect(outs.filter((o) => o.status === 'reserved')).toHaveLength(20);
  expect(await level(db, 'A', 'EAST')).toEqual({ onHand: 10, reserved: 10 });
  expect(await level(db, 'A', 'WEST')).toEqual({ onHand: 10, reserved: 10 });
});

it('racing split orders of 3 never over-take either warehouse', async () => {
  const outs = await Promise.all(
    Array.from({ length: 30 }, (_, i) => reserveStock(db, order(`s-${i}`, 3, { allowSplit: true }))),
  );
  expect(outs.filter((o) => o.status === 'reserved')).toHaveLength(6);
  const [east, west] = [await level(db, 'A', 'EAST'), await level(db, 'A', 'WEST')];
  expect(east.reserved).toBeLessThanOrEqual(10);
  expect(west.reserved).toBeLessThanOrEqual(10);
  expect(east.reserved + west.reserved).toBe(18);
});
