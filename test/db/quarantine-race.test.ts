/**
 * The quarantine race (issue 8, item 7): a reserve blocked on a level row behind a
 * quarantine used to re-check its guard on the new row but count the lot's units from its
 * old snapshot, holding stock that was no longer sellable. Each race is made deterministic
 * by a third transaction that holds the level row while both contenders queue up behind it.
 */
import { createCampaign } from '../../data/campaigns/campaigns';
import type { Db } from '../../data/db';
import { readInventory } from '../../data/stock/inventory-view';
import { findDrifts } from '../../data/stock/reconcile';
import { releaseStock } from '../../data/orders/release';
import { reserveStock } from '../../data/orders/reservations';
import type { ReserveInput } from '../../domain/types';
import { setLotQuarantine } from '../../data/stock/stock-settings';
import { invariantViolations, level, perishable, receiveLot, resetDb, testDb } from '../helpers/db';
import { blockLevel } from '../helpers/locks';

let db: Db;
beforeAll(() => {
  db = testDb(10);
});
afterAll(() => db.$disconnect());
beforeEach(async () => {
  await resetDb(db);
  await perishable(db, 'BERRY', 3, 1);
  await receiveLot(db, 'BERRY', 'W1', 'BAD', 5, 10);
  await receiveLot(db, 'BERRY', 'W1', 'GOOD', 5, 12);
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const quarantine = {
  idempotencyKey: 'q1',
  sku: 'BERRY',
  warehouseCode: 'W1',
  lotCode: 'BAD',
  quarantined: true,
  reason: 'recall',
};
const order = (id: string, quantity: number): ReserveInput => ({
  reservationId: id,
  orderId: id,
  userId: 'u1',
  lines: [{ sku: 'BERRY', warehouseCode: 'W1', quantity }],
  expiresAt: new Date(Date.now() + 60_000).toISOString(),
});
/** available before clamping to 0, as the reserve guard computes it. */
const rawAvailable = async () => {
  const [row] = await db.$queryRaw<{ available: number }[]>`
    SELECT stockhold_available(inventory_levels) AS available
      FROM inventory_levels WHERE sku = 'BERRY' AND warehouse_code = 'W1'`;
  return row.available;
};

describe('quarantine committed while a reserve waits for the level row', () => {
  it('the reserve sees the quarantined lot: refused, nothing held, available never below 0', async () => {
    const blocker = await blockLevel('BERRY', 'W1');
    const quarantined = setLotQuarantine(db, quarantine);
    await blocker.waiters(1);
    const reserved = reserveStock(db, order('o1', 10));
    await blocker.waiters(2); // the reserve queued behind the quarantine, on its old snapshot
    await blocker.release();
    await quarantined;
    expect(await reserved).toMatchObject({
      status: 'rejected',
      reason: 'INSUFFICIENT_STOCK',
      shortages: [{ available: 5 }],
    });
    expect(await level(db, 'BERRY', 'W1')).toEqual({ onHand: 10, reserved: 0 });
    expect(await rawAvailable()).toBe(5);
  });

  it('a reserve that fits in what stays sellable is still taken', async () => {
    const blocker = await blockLevel('BERRY', 'W1');
    const quarantined = setLotQuarantine(db, quarantine);
    await blocker.waiters(1);
    const reserved = reserveStock(db, order('o1', 5));
    await blocker.waiters(2);
    await blocker.release();
    await quarantined;
    expect(await reserved).toMatchObject({ status: 'reserved' });
    expect(await rawAvailable()).toBe(0);
  });

  it('a flash-sale set-aside is refused the same way', async () => {
    const blocker = await blockLevel('BERRY', 'W1');
    const quarantined = setLotQuarantine(db, quarantine);
    await blocker.waiters(1);
    const now = Date.now();
    const created = createCampaign(db, {
      id: 'c1',
      kind: 'FLASH_SALE',
      sku: 'BERRY',
      warehouseCode: 'W1',
      quota: 8,
      perUserLimit: 1,
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 3_600_000).toISOString(),
    });
    const refused = expect(created).rejects.toMatchObject({ code: 'INSUFFICIENT_STOCK' });
    await blocker.waiters(2);
    await blocker.release();
    await quarantined;
    await refused;
    expect(await level(db, 'BERRY', 'W1')).toEqual({ onHand: 10, reserved: 0 });
  });
});

describe('quarantine after a reserve that got the row first', () => {
  it('keeps the hold (documented), says so in its outcome, and reconciliation reports the level until resolved', async () => {
    const blocker = await blockLevel('BERRY', 'W1');
    const reserved = reserveStock(db, order('o1', 10));
    await blocker.waiters(1);
    const quarantined = setLotQuarantine(db, quarantine);
    await blocker.waiters(2);
    await blocker.release();
    expect(await reserved).toMatchObject({ status: 'reserved' });
    expect(await quarantined).toMatchObject({ quarantined: true, available: -5 });
    expect((await readInventory(db, 'BERRY'))!.warehouses[0]).toMatchObject({
      reserved: 10,
      unsellable: 5,
      available: 0,
    });
    expect((await findDrifts(db)).drifts).toEqual([
      { check: 'AVAILABLE_NEGATIVE', sku: 'BERRY', warehouseCode: 'W1', lotCode: null, recorded: -5, expected: 0 },
    ]);
    await releaseStock(db, 'o1', 'CANCELLED');
    expect(await rawAvailable()).toBe(5);
  });
});
