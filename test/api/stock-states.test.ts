/**
 * Issue 19 item 4: stock on hand that may not be sold. Moves between AVAILABLE, DAMAGED and
 * QUALITY_CONTROL through POST /admin/levels/:sku/:wh/moves, write-offs out of a state, on the
 * real PostgreSQL and Redis (inject(); the time-skipping Temporal server only because the app
 * wants a client). Every step ends with the reconciliation query finding nothing.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../data/db';
import { reserveStock } from '../../data/orders/reservations';
import { eventually, useAppStack } from '../helpers/app';
import { invariantViolations, perishable, receiveLot, stock } from '../helpers/db';

const stack = useAppStack('time-skipping', 'stock-states-test');
let db: Db;
let app: FastifyInstance;
beforeAll(() => {
  ({ db, app } = stack);
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const move = (sku: string, wh: string, body: object) =>
  app.inject({ method: 'POST', url: `/admin/levels/${sku}/${wh}/moves`, payload: body });
const buckets = async (sku: string, wh: string) => {
  const l = await db.inventoryLevel.findUniqueOrThrow({ where: { sku_warehouseCode: { sku, warehouseCode: wh } } });
  return { onHand: l.onHand, reserved: l.reserved, damaged: l.damaged, qualityControl: l.qualityControl };
};
const inHour = () => new Date(Date.now() + 3600_000).toISOString();

it('a move out of AVAILABLE never takes held units: everything held → 409 MOVE_REFUSED, nothing changed', async () => {
  await stock(db, 'HELD', 'W1', 5);
  const hold = await reserveStock(db, {
    reservationId: 'o-held',
    orderId: 'o-held',
    userId: 'u1',
    lines: [{ sku: 'HELD', warehouseCode: 'W1', quantity: 5 }],
    expiresAt: inHour(),
  });
  expect(hold.status).toBe('reserved');
  const refused = await move('HELD', 'W1', {
    moveId: 'm-held',
    from: 'AVAILABLE',
    to: 'QUALITY_CONTROL',
    quantity: 1,
    reason: 'inspection',
  });
  expect([refused.statusCode, refused.json()]).toEqual([
    409,
    { code: 'MOVE_REFUSED', message: expect.any(String), details: { from: 'AVAILABLE', quantity: 1, inState: 0 } },
  ]);
  expect(await buckets('HELD', 'W1')).toEqual({ onHand: 5, reserved: 5, damaged: 0, qualityControl: 0 });
  expect(await db.operationFence.count({ where: { operation: 'MOVE' } })).toBe(0);
});

it('moves between the states and write-offs keep every bucket equal to its ledger; GET /inventory shows them', async () => {
  await stock(db, 'KIWI', 'W1', 10);
  const toQc = { moveId: 'm-1', from: 'AVAILABLE', to: 'QUALITY_CONTROL', quantity: 3, reason: 'inspection' };
  const first = await move('KIWI', 'W1', toQc);
  expect([first.statusCode, first.json()]).toEqual([
    201,
    {
      moveId: 'm-1',
      sku: 'KIWI',
      warehouseCode: 'W1',
      from: 'AVAILABLE',
      to: 'QUALITY_CONTROL',
      quantity: 3,
      onHand: 10,
      reserved: 0,
      damaged: 0,
      qualityControl: 3,
      available: 7,
      replayed: false,
    },
  ]);
  expect(await invariantViolations(db)).toEqual([]);
  // The same move again: its first answer, nothing moves twice; the id with another body: 409.
  expect((await move('KIWI', 'W1', toQc)).json()).toEqual({ ...first.json(), replayed: true });
  const other = await move('KIWI', 'W1', { ...toQc, quantity: 4 });
  expect([other.statusCode, other.json().code]).toEqual([409, 'IDEMPOTENCY_CONFLICT']);

  expect(
    (
      await move('KIWI', 'W1', {
        moveId: 'm-2',
        from: 'QUALITY_CONTROL',
        to: 'DAMAGED',
        quantity: 2,
        reason: 'failed inspection',
      })
    ).json(),
  ).toMatchObject({
    damaged: 2,
    qualityControl: 1,
    available: 7,
  });
  expect(await invariantViolations(db)).toEqual([]);
  const short = await move('KIWI', 'W1', {
    moveId: 'm-3',
    from: 'DAMAGED',
    to: 'WRITE_OFF',
    quantity: 3,
    reason: 'scrapped',
  });
  expect([short.statusCode, short.json().details]).toEqual([409, { from: 'DAMAGED', quantity: 3, inState: 2 }]);
  expect(
    (
      await move('KIWI', 'W1', { moveId: 'm-4', from: 'DAMAGED', to: 'WRITE_OFF', quantity: 2, reason: 'scrapped' })
    ).json(),
  ).toMatchObject({
    onHand: 8,
    damaged: 0,
    qualityControl: 1,
    available: 7,
  });
  expect(await invariantViolations(db)).toEqual([]);
  // On-hand cannot be adjusted below what is held or set aside: 8 on hand, 1 in quality control.
  const adjust = await app.inject({
    method: 'POST',
    url: '/admin/adjustments',
    headers: { 'idempotency-key': 'adj-kiwi' },
    payload: { sku: 'KIWI', warehouseCode: 'W1', delta: -8, reasonCode: 'LOSS' },
  });
  expect([adjust.statusCode, adjust.json().code]).toEqual([409, 'ADJUSTMENT_REFUSED']);
  // What is set aside is not sold: 7 available, an order of 8 is short.
  const hold = await reserveStock(db, {
    reservationId: 'o-kiwi',
    orderId: 'o-kiwi',
    userId: 'u1',
    lines: [{ sku: 'KIWI', warehouseCode: 'W1', quantity: 8 }],
    expiresAt: inHour(),
  });
  expect(hold).toMatchObject({ status: 'rejected', reason: 'INSUFFICIENT_STOCK' });

  // Through the cache: a background refill of an earlier change may land first; the newest wins.
  const view = await eventually(
    async () => (await app.inject({ method: 'GET', url: '/inventory/KIWI' })).json(),
    (v) => v.total?.onHand === 8 && v.total?.qualityControl === 1,
    5_000,
  );
  expect(view.warehouses).toEqual([
    expect.objectContaining({ warehouseCode: 'W1', onHand: 8, damaged: 0, qualityControl: 1, available: 7 }),
  ]);
  expect(view.total).toMatchObject({ onHand: 8, damaged: 0, qualityControl: 1, available: 7 });
  expect(
    (
      await move('KIWI', 'W1', {
        moveId: 'm-5',
        from: 'QUALITY_CONTROL',
        to: 'AVAILABLE',
        quantity: 1,
        reason: 'passed',
      })
    ).json(),
  ).toMatchObject({
    qualityControl: 0,
    available: 8,
  });
  const ledger = await db.stockMovement.findMany({
    where: { sku: 'KIWI', reason: { not: { startsWith: 'RECEIVE' } } },
    orderBy: { id: 'asc' },
  });
  expect(ledger.map((m) => [m.reason, m.onHandDelta, m.damagedDelta, m.qualityControlDelta])).toEqual([
    ['MOVE:AVAILABLE:QUALITY_CONTROL:inspection', 0, 0, 3],
    ['MOVE:QUALITY_CONTROL:DAMAGED:failed inspection', 0, 2, -2],
    ['WRITE_OFF:DAMAGED:scrapped', -2, -2, 0],
    ['MOVE:QUALITY_CONTROL:AVAILABLE:passed', 0, 0, -1],
  ]);
});

it('a lot-tracked write-off names its lot: on-hand, the bucket and the lot fall together', async () => {
  await perishable(db, 'BERRY');
  await receiveLot(db, 'BERRY', 'W1', 'L1', 6, 10);
  const noLot = await move('BERRY', 'W1', {
    moveId: 'b-0',
    from: 'AVAILABLE',
    to: 'DAMAGED',
    quantity: 2,
    reason: 'crushed',
  });
  expect([noLot.statusCode, noLot.json().code]).toEqual([400, 'VALIDATION_FAILED']);
  expect(
    (
      await move('BERRY', 'W1', {
        moveId: 'b-1',
        from: 'AVAILABLE',
        to: 'DAMAGED',
        quantity: 2,
        reason: 'crushed',
        lotCode: 'L1',
      })
    ).statusCode,
  ).toBe(201);
  expect(await invariantViolations(db)).toEqual([]);
  const off = await move('BERRY', 'W1', {
    moveId: 'b-2',
    from: 'DAMAGED',
    to: 'WRITE_OFF',
    quantity: 2,
    reason: 'binned',
    lotCode: 'L1',
  });
  expect(off.json()).toMatchObject({ onHand: 4, damaged: 0, available: 4 });
  expect((await db.stockLot.findFirstOrThrow({ where: { sku: 'BERRY', lotCode: 'L1' } })).quantity).toBe(4);
});

it('reconciliation finds a bucket that disagrees with its ledger', async () => {
  await stock(db, 'PEAR', 'W1', 4);
  await db.$executeRaw`UPDATE inventory_levels SET damaged = 1 WHERE sku = 'PEAR'`;
  expect(await invariantViolations(db)).toEqual([
    expect.objectContaining({ check: 'DAMAGED_VS_LEDGER', sku: 'PEAR', recorded: 1, expected: 0 }),
  ]);
  await db.$executeRaw`UPDATE inventory_levels SET damaged = 0, quality_control = 5 WHERE sku = 'PEAR'`.catch(
    (e: Error) => e,
  );
  // More set aside than on hand: the table refuses it (reserved + damaged + quality_control <= on_hand).
  expect((await buckets('PEAR', 'W1')).qualityControl).toBe(0);
  await db.$executeRaw`UPDATE inventory_levels SET damaged = 0 WHERE sku = 'PEAR'`;
});
