/**
 * Issue 19 item 3: returns with a disposition, POST /admin/returns on the real PostgreSQL and
 * Redis (inject(); the time-skipping Temporal server only because the app wants a client).
 * Orders are held and confirmed through data/ directly: what is under test is the return.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../data/db';
import { confirmStock } from '../../data/orders/confirm';
import { reserveStock } from '../../data/orders/reservations';
import { readInventory } from '../../data/stock/inventory-view';
import { useAppStack } from '../helpers/app';
import { invariantViolations, perishable, receiveLot, stock } from '../helpers/db';

const stack = useAppStack('time-skipping', 'returns-test');
let db: Db;
let app: FastifyInstance;
beforeAll(() => {
  ({ db, app } = stack);
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const giveBack = (body: object) => app.inject({ method: 'POST', url: '/admin/returns', payload: body });
// The inventory view as PostgreSQL has it (GET /inventory/:sku's, without the cache, which a
// sale's background refill may still be writing when the test reads).
const at = async (sku: string, wh: string) =>
  (await readInventory(db, sku))!.warehouses.find((w) => w.warehouseCode === wh);

/** Holds and confirms `quantity` of `sku` at W1 for order `orderId` (its reservation id too). */
async function sell(orderId: string, sku: string, quantity: number, confirm = true) {
  const held = await reserveStock(db, {
    reservationId: orderId,
    orderId,
    userId: 'u1',
    lines: [{ sku, warehouseCode: 'W1', quantity }],
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
  });
  expect(held.status).toBe('reserved');
  if (confirm) expect(await confirmStock(db, orderId, `pay-${orderId}`)).toMatchObject({ status: 'confirmed' });
}

describe('a confirmed order of 5 apples', () => {
  beforeAll(async () => {
    await stock(db, 'APPLE', 'W1', 10);
    await stock(db, 'PLUM', 'W2', 1); // W2 exists
    await sell('o-1', 'APPLE', 5);
  });
  const restock = {
    returnId: 'ret-1',
    orderId: 'o-1',
    lines: [{ sku: 'APPLE', warehouseCode: 'W1', quantity: 2, disposition: 'RESTOCK' }],
  };
  let first: unknown;

  it('RESTOCK 2 → on hand and available +2, a ledger row RETURN:RESTOCK for the order', async () => {
    expect(await at('APPLE', 'W1')).toMatchObject({ onHand: 5, available: 5 });
    const res = await giveBack(restock);
    first = res.json();
    expect([res.statusCode, first]).toEqual([
      201,
      {
        returnId: 'ret-1',
        orderId: 'o-1',
        lines: [{ sku: 'APPLE', warehouseCode: 'W1', quantity: 2, disposition: 'RESTOCK' }],
        levels: [
          { sku: 'APPLE', warehouseCode: 'W1', onHand: 7, reserved: 0, damaged: 0, qualityControl: 0, available: 7 },
        ],
        replayed: false,
      },
    ]);
    expect(await at('APPLE', 'W1')).toMatchObject({ onHand: 7, available: 7 });
    const row = await db.stockMovement.findFirstOrThrow({ where: { reason: { startsWith: 'RETURN:' } } });
    expect(row).toMatchObject({ reason: 'RETURN:RESTOCK', reference: 'o-1', onHandDelta: 2, damagedDelta: 0 });
  });

  it('the same returnId again → its first answer, nothing twice; with another body → 409 IDEMPOTENCY_CONFLICT', async () => {
    expect((await giveBack(restock)).json()).toEqual({ ...(first as object), replayed: true });
    const other = await giveBack({ ...restock, lines: [{ ...restock.lines[0], quantity: 1 }] });
    expect([other.statusCode, other.json().code]).toEqual([409, 'IDEMPOTENCY_CONFLICT']);
    expect(await at('APPLE', 'W1')).toMatchObject({ onHand: 7, available: 7 });
  });

  it('DAMAGED 2 → on hand +2, in the damaged bucket, available unchanged', async () => {
    const res = await giveBack({
      returnId: 'ret-2',
      orderId: 'o-1',
      lines: [{ sku: 'APPLE', warehouseCode: 'W1', quantity: 2, disposition: 'DAMAGED' }],
    });
    expect(res.statusCode).toBe(201);
    expect(await at('APPLE', 'W1')).toMatchObject({ onHand: 9, damaged: 2, qualityControl: 0, available: 7 });
  });

  it('more than was sold minus what came back → 409 RETURN_EXCEEDS_SALE, nothing changed', async () => {
    const ledger = await db.stockMovement.count();
    const res = await giveBack({
      returnId: 'ret-3',
      orderId: 'o-1',
      lines: [
        { sku: 'APPLE', warehouseCode: 'W2', quantity: 1, disposition: 'QC_HOLD' },
        { sku: 'APPLE', warehouseCode: 'W1', quantity: 1, disposition: 'RESTOCK' },
      ],
    });
    expect([res.statusCode, res.json()]).toEqual([
      409,
      {
        code: 'RETURN_EXCEEDS_SALE',
        message: expect.any(String),
        details: { sku: 'APPLE', requested: 2, sold: 5, returned: 4 },
      },
    ]);
    expect([await db.stockMovement.count(), await db.returnLine.count()]).toEqual([ledger, 2]);
    expect(await at('APPLE', 'W1')).toMatchObject({ onHand: 9, damaged: 2, available: 7 });
    expect(await at('APPLE', 'W2')).toBeUndefined();
  });

  it('any warehouse may receive the last one; then nothing more comes back', async () => {
    const res = await giveBack({
      returnId: 'ret-4',
      orderId: 'o-1',
      lines: [{ sku: 'APPLE', warehouseCode: 'W2', quantity: 1, disposition: 'QC_HOLD' }],
    });
    expect(res.json().levels).toEqual([
      { sku: 'APPLE', warehouseCode: 'W2', onHand: 1, reserved: 0, damaged: 0, qualityControl: 1, available: 0 },
    ]);
    const more = await giveBack({
      returnId: 'ret-5',
      orderId: 'o-1',
      lines: [{ sku: 'APPLE', warehouseCode: 'W1', quantity: 1, disposition: 'WRITE_OFF' }],
    });
    expect([more.statusCode, more.json().details]).toEqual([409, { sku: 'APPLE', requested: 1, sold: 5, returned: 5 }]);
  });
});

it('two returns of one order racing for the same units: one takes them, the other is refused', async () => {
  await stock(db, 'QUINCE', 'W1', 4);
  await sell('o-race', 'QUINCE', 3);
  const line = { sku: 'QUINCE', warehouseCode: 'W1', quantity: 2, disposition: 'RESTOCK' };
  const answers = await Promise.all(
    ['ret-r1', 'ret-r2'].map((returnId) => giveBack({ returnId, orderId: 'o-race', lines: [line] })),
  );
  expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409]);
  expect(await at('QUINCE', 'W1')).toMatchObject({ onHand: 3, available: 3 });
});

it('only a confirmed order: a hold not yet paid → 409 ORDER_NOT_CONFIRMED; an unknown order → 404', async () => {
  await stock(db, 'PEAR', 'W1', 5);
  await sell('o-held', 'PEAR', 1, false);
  const line = { sku: 'PEAR', warehouseCode: 'W1', quantity: 1, disposition: 'RESTOCK' };
  const held = await giveBack({ returnId: 'ret-h', orderId: 'o-held', lines: [line] });
  expect([held.statusCode, held.json().code]).toEqual([409, 'ORDER_NOT_CONFIRMED']);
  const unknown = await giveBack({ returnId: 'ret-u', orderId: 'o-nope', lines: [line] });
  expect([unknown.statusCode, unknown.json().code]).toEqual([404, 'ORDER_NOT_FOUND']);
});

it('a lot-tracked SKU returns into the lot it was sold from; past its removal date only as a write-off', async () => {
  await perishable(db, 'BERRY');
  await receiveLot(db, 'BERRY', 'W1', 'L1', 6, 10);
  await sell('o-berry', 'BERRY', 3);
  const back = await giveBack({
    returnId: 'ret-b1',
    orderId: 'o-berry',
    lines: [{ sku: 'BERRY', warehouseCode: 'W1', quantity: 1, disposition: 'RESTOCK' }],
  });
  expect([back.statusCode, back.json().lines]).toEqual([
    201,
    [{ sku: 'BERRY', warehouseCode: 'W1', quantity: 1, disposition: 'RESTOCK', lotCode: 'L1' }],
  ]);
  expect((await db.stockLot.findFirstOrThrow({ where: { sku: 'BERRY', lotCode: 'L1' } })).quantity).toBe(4);
  expect(await invariantViolations(db)).toEqual([]);
  await db.stockLot.updateMany({
    where: { sku: 'BERRY', lotCode: 'L1' },
    data: { removeAt: new Date(Date.now() - 3_600_000) },
  });
  const late = await giveBack({
    returnId: 'ret-b2',
    orderId: 'o-berry',
    lines: [{ sku: 'BERRY', warehouseCode: 'W1', quantity: 1, disposition: 'RESTOCK' }],
  });
  expect([late.statusCode, late.json().code]).toEqual([409, 'LOT_PAST_REMOVAL']);
  const off = await giveBack({
    returnId: 'ret-b3',
    orderId: 'o-berry',
    lines: [{ sku: 'BERRY', warehouseCode: 'W1', quantity: 1, disposition: 'WRITE_OFF' }],
  });
  expect(off.statusCode).toBe(201);
  expect((await db.stockLot.findFirstOrThrow({ where: { sku: 'BERRY', lotCode: 'L1' } })).quantity).toBe(4);
  expect(
    await db.stockMovement.findFirst({ where: { reason: 'RETURN:WRITE_OFF', reference: 'o-berry' } }),
  ).toMatchObject({ onHandDelta: 0 });
});
