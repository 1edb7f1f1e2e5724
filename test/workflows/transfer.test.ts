/**
 * Cross-warehouse transfers through the API (inject) on the time-skipping server with the
 * real activities on PostgreSQL: availability at both ends checked at every step; partial
 * receipt booked as a loss; cancel before shipping; a shipment never received raises one
 * overdue alert at its deadline and goes back to its source.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../data/db';
import { readInventory } from '../../data/stock/inventory-view';
import { seed } from '../../prisma/seed';
import { startDemoTransfer } from '../../scripts/demo-transfer';
import { useAppStack } from '../helpers/app';
import { testConfig } from '../helpers/env';
import { invariantViolations, perishable, receiveLot, stock } from '../helpers/db';

const TASK_QUEUE = 'transfer-test';
const ADMIN = { authorization: 'Bearer test-admin-token' };
const stack = useAppStack('time-skipping', TASK_QUEUE);
let db: Db;
let app: FastifyInstance;
beforeAll(() => {
  ({ db, app } = stack);
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const post = (url: string, payload?: object) => app.inject({ method: 'POST', url, payload, headers: ADMIN });
const create = (transferId: string, sku: string, quantity: number, extra: object = {}) =>
  post('/transfers', { transferId, sku, fromWarehouse: 'SRC', toWarehouse: 'DST', quantity, ...extra });

/** [onHand, reserved, incoming, available] at SRC and DST. */
async function ends(sku: string) {
  const view = await readInventory(db, sku);
  const at = (wh: string) => {
    const l = view!.warehouses.find((w) => w.warehouseCode === wh);
    return l ? [l.onHand, l.reserved, l.incoming, l.available] : [0, 0, 0, 0];
  };
  return { SRC: at('SRC'), DST: at('DST') };
}

it('request → ship → receive: availability right at both ends at every step', async () => {
  await stock(db, 'T1', 'SRC', 10);
  await stock(db, 'T1', 'DST', 1);
  const created = await create('t-1', 'T1', 4);
  expect([created.statusCode, created.json()]).toEqual([
    201,
    expect.objectContaining({ transferId: 't-1', stage: 'REQUESTED', overdue: false }),
  ]);
  expect(await ends('T1')).toEqual({ SRC: [10, 4, 0, 6], DST: [1, 0, 0, 1] });
  expect((await create('t-1', 'T1', 4)).json().stage).toBe('REQUESTED'); // a repeat takes no second hold
  expect(await ends('T1')).toEqual({ SRC: [10, 4, 0, 6], DST: [1, 0, 0, 1] });

  const shipped = await post('/transfers/t-1/ship');
  expect(shipped.json()).toMatchObject({ stage: 'SHIPPED', deadlineAt: expect.any(String) });
  expect(await ends('T1')).toEqual({ SRC: [6, 0, 0, 6], DST: [1, 0, 4, 1] });
  expect((await post('/transfers/t-1/ship')).json().stage).toBe('SHIPPED');
  expect((await post('/transfers/t-1/cancel')).json().code).toBe('TRANSFER_CONFLICT');

  const received = await post('/transfers/t-1/receive', { receivedQuantity: 4 });
  expect(received.json()).toMatchObject({ stage: 'RECEIVED', receivedQuantity: 4 });
  expect(await ends('T1')).toEqual({ SRC: [6, 0, 0, 6], DST: [5, 0, 0, 5] });
  await stack.env.client.workflow.getHandle('transfer-t-1').result();
  expect((await post('/transfers/t-1/receive', { receivedQuantity: 4 })).json().stage).toBe('RECEIVED');
  expect((await post('/transfers/t-1/receive', { receivedQuantity: 3 })).json().code).toBe('TRANSFER_CONFLICT');
  expect((await app.inject({ method: 'GET', url: '/transfers/t-1', headers: ADMIN })).json()).toMatchObject({
    stage: 'RECEIVED',
  });
});

it('partial receipt: the shortfall is booked as a loss; perishable lots keep their dates', async () => {
  await perishable(db, 'T2');
  await receiveLot(db, 'T2', 'SRC', 'LATE', 5, 20);
  await receiveLot(db, 'T2', 'SRC', 'EARLY', 3, 6);
  await stock(db, 'T2-X', 'DST', 1); // creates warehouse DST
  await create('t-2', 'T2', 6);
  const shipped = (await post('/transfers/t-2/ship')).json();
  expect(shipped.shippedLots).toEqual([
    expect.objectContaining({ lotCode: 'EARLY', quantity: 3 }),
    expect.objectContaining({ lotCode: 'LATE', quantity: 3 }),
  ]);
  expect(await ends('T2')).toEqual({ SRC: [2, 0, 0, 2], DST: [0, 0, 6, 0] });

  const res = await post('/transfers/t-2/receive', { receivedQuantity: 4, shortfallReason: 'crushed crate' });
  expect(res.json()).toMatchObject({ stage: 'RECEIVED', receivedQuantity: 4, shortfallReason: 'crushed crate' });
  expect(await ends('T2')).toEqual({ SRC: [2, 0, 0, 2], DST: [4, 0, 0, 4] });
  const loss = await db.stockMovement.findFirstOrThrow({ where: { reason: 'TRANSFER_LOSS:crushed crate' } });
  expect(loss).toMatchObject({ warehouseCode: 'DST', incomingDelta: -2, onHandDelta: 0 });
  const lots = await db.stockLot.findMany({ where: { sku: 'T2', warehouseCode: 'DST' }, orderBy: { lotCode: 'asc' } });
  const source = await db.stockLot.findFirstOrThrow({ where: { sku: 'T2', warehouseCode: 'SRC', lotCode: 'EARLY' } });
  expect(lots.map((l) => [l.lotCode, l.quantity])).toEqual([
    ['EARLY', 3],
    ['LATE', 1],
  ]);
  expect(lots[0].expiresAt).toEqual(source.expiresAt);
});

it('cancel before shipping releases the hold; shipping afterwards is refused', async () => {
  await stock(db, 'T3', 'SRC', 5);
  await create('t-3', 'T3', 5);
  expect(await ends('T3')).toEqual({ SRC: [5, 5, 0, 0], DST: [0, 0, 0, 0] });
  expect((await post('/transfers/t-3/cancel')).json()).toMatchObject({ stage: 'CANCELLED' });
  expect(await ends('T3')).toEqual({ SRC: [5, 0, 0, 5], DST: [0, 0, 0, 0] });
  const ship = await post('/transfers/t-3/ship');
  expect([ship.statusCode, ship.json().code]).toEqual([409, 'TRANSFER_CONFLICT']);
  expect(await ends('T3')).toEqual({ SRC: [5, 0, 0, 5], DST: [0, 0, 0, 0] });
});

it('never received: one overdue alert at the deadline, then returned to the source', async () => {
  await stock(db, 'T4', 'SRC', 5);
  await create('t-4', 'T4', 3, { receiveWithinHours: 48 });
  await post('/transfers/t-4/ship');
  await stack.env.sleep(47 * 3600 * 1000);
  expect((await app.inject({ method: 'GET', url: '/transfers/t-4', headers: ADMIN })).json()).toMatchObject({
    stage: 'SHIPPED',
    overdue: false,
  });
  await stack.env.sleep(2 * 3600 * 1000);
  const overdue = (await app.inject({ method: 'GET', url: '/transfers/t-4', headers: ADMIN })).json();
  expect(overdue).toMatchObject({ stage: 'SHIPPED', overdue: true });
  expect(await db.stockAlert.findMany({ where: { kind: 'TRANSFER_OVERDUE' } })).toEqual([
    expect.objectContaining({ subject: 'transfer:t-4', warehouseCode: 'DST' }),
  ]);
  expect(await ends('T4')).toEqual({ SRC: [2, 0, 0, 2], DST: [0, 0, 3, 0] });

  expect((await post('/transfers/t-4/return')).json()).toMatchObject({ stage: 'RETURNED' });
  expect(await ends('T4')).toEqual({ SRC: [5, 0, 0, 5], DST: [0, 0, 0, 0] });
});

it('refused requests: not enough at the source, unknown warehouse, id reused', async () => {
  await stock(db, 'T5', 'SRC', 2);
  const short = await create('t-5', 'T5', 3);
  expect([short.statusCode, short.json().code, short.json().details]).toEqual([
    409,
    'INSUFFICIENT_STOCK',
    { shortages: [expect.objectContaining({ available: 2 })] },
  ]);
  const unknown = await post('/transfers', {
    transferId: 't-6',
    sku: 'T5',
    fromWarehouse: 'SRC',
    toWarehouse: 'NOWHERE',
    quantity: 1,
  });
  expect([unknown.statusCode, unknown.json().code]).toEqual([404, 'UNKNOWN_WAREHOUSE']);
  const reused = await create('t-1', 'T5', 1);
  expect([reused.statusCode, reused.json().code]).toEqual([409, 'TRANSFER_CONFLICT']);
  expect((await app.inject({ method: 'GET', url: '/transfers/nope', headers: ADMIN })).statusCode).toBe(404);
  expect(await ends('T5')).toEqual({ SRC: [2, 0, 0, 2], DST: [0, 0, 0, 0] });
});

it('npm start puts the seed demo transfer in flight: shipped, incoming at the destination', async () => {
  await seed(db);
  const config = testConfig({ TEMPORAL_TASK_QUEUE: TASK_QUEUE });
  expect(await startDemoTransfer(stack.env.client, config)).toBe('SHIPPED');
  expect(await startDemoTransfer(stack.env.client, config)).toBe('SHIPPED'); // idempotent
  const hz = (await readInventory(db, 'LYCHEE-1KG'))!.warehouses.find((w) => w.warehouseCode === 'HZ-01');
  expect(hz).toMatchObject({ incoming: 20 });
});
