/**
 * Stock states on the real PostgreSQL: admin changes (idempotent, compare-and-set), safety
 * stock, quarantined and expired lots excluded from available, FEFO on confirmation, and
 * the lot invariant the database enforces.
 */
import { upsertProduct } from '../../data/stock/catalog';
import type { Db } from '../../data/db';
import { readInventory } from '../../data/stock/inventory-view';
import { confirmStock } from '../../data/orders/confirm';
import { reserveStock } from '../../data/orders/reservations';
import type { ReserveInput } from '../../domain/types';
import { adjustStock } from '../../data/stock/stock-admin';
import { setLotQuarantine, setSafetyStock } from '../../data/stock/stock-settings';
import { invariantViolations, level, perishable, receiveLot, resetDb, stock, testDb } from '../helpers/db';

let db: Db;
beforeAll(() => {
  db = testDb(20);
});
afterAll(() => db.$disconnect());
beforeEach(() => resetDb(db));
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const expiresAt = new Date(Date.now() + 60_000).toISOString();
const order = (id: string, sku: string, quantity: number): ReserveInput => ({
  reservationId: id,
  orderId: id,
  userId: 'u1',
  lines: [{ sku, warehouseCode: 'W1', quantity }],
  expiresAt,
});
const available = async (sku: string) => (await readInventory(db, sku))!.warehouses[0].available;
const ledgerRows = () => db.stockMovement.count();

describe('admin changes', () => {
  it('a stale expected quantity → STALE_QUANTITY and nothing changes; the right one applies once', async () => {
    await stock(db, 'A', 'W1', 10);
    const before = await ledgerRows();
    const change = { idempotencyKey: 'cnt-1', sku: 'A', warehouseCode: 'W1', delta: -2, reasonCode: 'COUNT' as const };
    await expect(adjustStock(db, { ...change, expectedQuantity: 11 })).rejects.toMatchObject({
      code: 'STALE_QUANTITY',
      details: { expected: 11, actual: 10 },
    });
    expect(await level(db, 'A', 'W1')).toEqual({ onHand: 10, reserved: 0 });
    expect(await ledgerRows()).toBe(before);
    expect(await db.operationFence.count({ where: { serial: 'admin:cnt-1' } })).toBe(0);

    expect(await adjustStock(db, { ...change, expectedQuantity: 10 })).toMatchObject({ onHand: 8, replayed: false });
    expect(await adjustStock(db, { ...change, expectedQuantity: 10 })).toMatchObject({ onHand: 8, replayed: true });
    await expect(adjustStock(db, { ...change, delta: -3, expectedQuantity: 10 })).rejects.toMatchObject({
      code: 'IDEMPOTENCY_CONFLICT',
    });
    expect(await level(db, 'A', 'W1')).toEqual({ onHand: 8, reserved: 0 });
  });

  it('refuses to adjust below what orders hold, or against the reason code', async () => {
    await stock(db, 'A', 'W1', 5);
    await reserveStock(db, order('o1', 'A', 4));
    await expect(
      adjustStock(db, { idempotencyKey: 'd1', sku: 'A', warehouseCode: 'W1', delta: -2, reasonCode: 'DAMAGE' }),
    ).rejects.toMatchObject({
      code: 'ADJUSTMENT_REFUSED',
    });
    await expect(
      adjustStock(db, { idempotencyKey: 'd2', sku: 'A', warehouseCode: 'W1', delta: -1, reasonCode: 'RETURN' }),
    ).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(await level(db, 'A', 'W1')).toEqual({ onHand: 5, reserved: 4 });
  });

  it('safety stock is kept back from available (compare-and-set on the old value)', async () => {
    await stock(db, 'A', 'W1', 10);
    await expect(
      setSafetyStock(db, { idempotencyKey: 's0', sku: 'A', warehouseCode: 'W1', safetyStock: 8, expectedQuantity: 3 }),
    ).rejects.toMatchObject({
      code: 'STALE_QUANTITY',
    });
    await setSafetyStock(db, {
      idempotencyKey: 's1',
      sku: 'A',
      warehouseCode: 'W1',
      safetyStock: 8,
      expectedQuantity: 0,
    });
    expect(await available('A')).toBe(2);
    expect(await reserveStock(db, order('o1', 'A', 3))).toMatchObject({
      status: 'rejected',
      shortages: [{ available: 2 }],
    });
    expect(await reserveStock(db, order('o2', 'A', 2))).toMatchObject({ status: 'reserved' });
  });

  it('lot tracking: a lot is required, and cannot be switched on while there is stock', async () => {
    await perishable(db, 'BERRY');
    await stock(db, 'PLAIN', 'W1', 1);
    await expect(stock(db, 'BERRY', 'W1', 5)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(upsertProduct(db, 'PLAIN', 'Plain', { lotTracked: true })).rejects.toMatchObject({
      code: 'LOT_TRACKING_LOCKED',
    });
  });

  it('the database refuses lots that do not sum to on-hand', async () => {
    await perishable(db, 'BERRY');
    await receiveLot(db, 'BERRY', 'W1', 'L1', 5, 10);
    await expect(db.$executeRawUnsafe(`UPDATE inventory_levels SET on_hand = 6 WHERE sku = 'BERRY'`)).rejects.toThrow(
      /do not sum to on-hand/,
    );
  });
});

describe('lots', () => {
  beforeEach(() => perishable(db, 'BERRY', 3, 1));

  it('a quarantined lot is not available until released', async () => {
    await receiveLot(db, 'BERRY', 'W1', 'L1', 5, 10);
    await receiveLot(db, 'BERRY', 'W1', 'L2', 3, 10);
    const q = {
      idempotencyKey: 'q1',
      sku: 'BERRY',
      warehouseCode: 'W1',
      lotCode: 'L1',
      quarantined: true,
      reason: 'mould',
    };
    await expect(setLotQuarantine(db, { ...q, expectedQuantity: 4 })).rejects.toMatchObject({ code: 'STALE_QUANTITY' });
    await setLotQuarantine(db, { ...q, expectedQuantity: 5 });
    const view = (await readInventory(db, 'BERRY'))!.warehouses[0];
    expect(view).toMatchObject({
      onHand: 8,
      unsellable: 5,
      available: 3,
      lots: [
        { lotCode: 'L1', state: 'QUARANTINED' },
        { lotCode: 'L2', state: 'SELLABLE' },
      ],
    });
    expect(await reserveStock(db, order('o1', 'BERRY', 4))).toMatchObject({
      status: 'rejected',
      shortages: [{ available: 3 }],
    });
    await setLotQuarantine(db, { ...q, idempotencyKey: 'q2', quarantined: false, reason: 'lab: clean' });
    expect(await available('BERRY')).toBe(8);
  });

  it('a lot stops being available the moment it passes its removal date', async () => {
    // Use-by in 1 day + 1.5 s, removal 1 day before: removable 1.5 s from now.
    await receiveLot(db, 'BERRY', 'W1', 'SOON', 4, 1 + 1.5 / 86_400);
    await receiveLot(db, 'BERRY', 'W1', 'LATER', 2, 10);
    expect((await readInventory(db, 'BERRY'))!.warehouses[0]).toMatchObject({
      available: 6,
      lots: [{ lotCode: 'SOON', state: 'NEAR_EXPIRY' }, { state: 'SELLABLE' }],
    });
    await new Promise((r) => setTimeout(r, 1_600));
    expect((await readInventory(db, 'BERRY'))!.warehouses[0]).toMatchObject({
      available: 2,
      unsellable: 4,
      lots: [{ lotCode: 'SOON', state: 'EXPIRED' }, {}],
    });
    expect(await reserveStock(db, order('o1', 'BERRY', 3))).toMatchObject({
      status: 'rejected',
      shortages: [{ available: 2 }],
    });
  });

  it('confirmation consumes lots first-expiring-first-out and records them on the reservation', async () => {
    await receiveLot(db, 'BERRY', 'W1', 'LATE', 5, 20);
    await receiveLot(db, 'BERRY', 'W1', 'EARLY', 3, 5);
    await receiveLot(db, 'BERRY', 'W1', 'MIDDLE', 2, 8);
    await reserveStock(db, order('o1', 'BERRY', 6));
    expect(await confirmStock(db, 'o1', 'p1')).toEqual({ status: 'confirmed', paymentId: 'p1' });
    const { consumedLots } = await db.reservation.findUniqueOrThrow({ where: { id: 'o1' } });
    expect(consumedLots).toMatchObject([
      { lotCode: 'EARLY', quantity: 3, sellable: true },
      { lotCode: 'MIDDLE', quantity: 2, sellable: true },
      { lotCode: 'LATE', quantity: 1, sellable: true },
    ]);
    const lots = await db.stockLot.findMany({ orderBy: { lotCode: 'asc' }, select: { lotCode: true, quantity: true } });
    expect(lots).toEqual([
      { lotCode: 'EARLY', quantity: 0 },
      { lotCode: 'LATE', quantity: 4 },
      { lotCode: 'MIDDLE', quantity: 0 },
    ]);
    expect(await level(db, 'BERRY', 'W1')).toEqual({ onHand: 4, reserved: 0 });
  });

  it('FEFO passes over a lot quarantined after the hold while sellable lots remain', async () => {
    await receiveLot(db, 'BERRY', 'W1', 'EARLY', 3, 5);
    await receiveLot(db, 'BERRY', 'W1', 'LATE', 5, 20);
    await reserveStock(db, order('o1', 'BERRY', 2));
    await setLotQuarantine(db, {
      idempotencyKey: 'q',
      sku: 'BERRY',
      warehouseCode: 'W1',
      lotCode: 'EARLY',
      quarantined: true,
      reason: 'recall',
    });
    await confirmStock(db, 'o1', 'p1');
    const { consumedLots } = await db.reservation.findUniqueOrThrow({ where: { id: 'o1' } });
    expect(consumedLots).toMatchObject([{ lotCode: 'LATE', quantity: 2, sellable: true }]);
  });

  it('adjusts a lot (damage) through the ledger; a lot cannot go below zero', async () => {
    await receiveLot(db, 'BERRY', 'W1', 'L1', 5, 10);
    await adjustStock(db, {
      idempotencyKey: 'dmg',
      sku: 'BERRY',
      warehouseCode: 'W1',
      lotCode: 'L1',
      delta: -2,
      reasonCode: 'DAMAGE',
      expectedQuantity: 5,
    });
    await expect(
      adjustStock(db, {
        idempotencyKey: 'dmg2',
        sku: 'BERRY',
        warehouseCode: 'W1',
        lotCode: 'L1',
        delta: -4,
        reasonCode: 'LOSS',
      }),
    ).rejects.toMatchObject({
      code: 'ADJUSTMENT_REFUSED',
    });
    await expect(
      adjustStock(db, {
        idempotencyKey: 'dmg3',
        sku: 'BERRY',
        warehouseCode: 'W1',
        lotCode: 'NOPE',
        delta: -1,
        reasonCode: 'LOSS',
      }),
    ).rejects.toMatchObject({
      code: 'LOT_NOT_FOUND',
    });
    expect(await level(db, 'BERRY', 'W1')).toEqual({ onHand: 3, reserved: 0 });
  });
});
