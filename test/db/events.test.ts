/**
 * Issue 18, item 1: an event exists if and only if its change committed. Table-driven over
 * every writer: each leaves exactly the events named (one stock.changed per transaction and
 * level, its causes that transaction's ledger rows, versions chaining with no hole — checked
 * after every case by eventViolations and by reconciliation's EVENTS_VS_VERSIONS), and a
 * change rolled back by a guard, a savepoint or a CHECK leaves none.
 */
import type { Pool as PgPool } from 'pg';
import { requestedAllocation } from '../../domain/allocation';
import { assignAll } from '../../data/events';
import { endCampaign, createCampaign, reserveFromCampaign } from '../../data/campaigns/campaigns';
import { confirmPayment, confirmStock } from '../../data/orders/confirm';
import type { Db } from '../../data/db';
import { raiseAlert } from '../../data/alerts/stock-alerts';
import { writeOffExpiredLots } from '../../data/stock/expiry';
import { fulfilPreSale } from '../../data/campaigns/pre-sales';
import { releaseStock } from '../../data/orders/release';
import { createHoldPool } from '../../data/orders/request-hold';
import { reserveStock } from '../../data/orders/reservations';
import { adjustStock, receiveStock } from '../../data/stock/stock-admin';
import { setLotQuarantine, setSafetyStock } from '../../data/stock/stock-settings';
import { receiveTransfer, requestTransfer, shipTransfer } from '../../data/transfers/transfers';
import { storePayment } from '../../data/payments/payments';
import { upsertWarehouse } from '../../data/stock/catalog';
import { findDrifts } from '../../data/stock/reconcile';
import { moveStock } from '../../data/stock/stock-states';
import { receiveReturn } from '../../data/orders/returns';
import { extendHold } from '../../data/orders/extend';
import { editOrder } from '../../data/orders/edit';
import { ExtensionSource } from '../../domain/hold-extensions';
import { invariantViolations, openFlashSale, perishable, receiveLot, resetDb, stock, testDb } from '../helpers/db';
import { TEST_DATABASE_URL } from '../helpers/env';
import { eventViolations, eventsSince, lastEventId } from '../helpers/events';

let db: Db;
let pool: PgPool;
beforeAll(() => {
  db = testDb();
  pool = createHoldPool(TEST_DATABASE_URL, 2);
});
afterAll(async () => {
  await pool.end();
  await db.$disconnect();
});
beforeEach(async () => {
  await resetDb(db);
  await stock(db, 'A', 'W1', 10);
  await stock(db, 'B', 'W1', 5);
});
afterEach(async () => {
  await assignAll(db);
  expect(await eventViolations(db)).toEqual([]);
  expect(await invariantViolations(db)).toEqual([]);
});

const soon = () => new Date(Date.now() + 60_000).toISOString();
const hold = (id: string, lines: { sku: string; quantity: number }[], orderId = id) =>
  reserveStock(db, {
    reservationId: id,
    orderId,
    userId: 'u1',
    lines: lines.map((l) => ({ ...l, warehouseCode: 'W1' })),
    expiresAt: soon(),
  });

function batchItem(orderId: string, sku: string, quantity: number, campaignId?: string) {
  const line = { sku, warehouseCode: 'W1', quantity };
  const expiresAt = new Date(Date.now() + 900_000).toISOString();
  const reserved = {
    status: 'reserved',
    reservationId: orderId,
    lines: [line],
    allocations: requestedAllocation([line]),
    expiresAt,
  };
  const order = { orderId, userId: `u-${orderId}`, lines: [line], ...(campaignId ? { campaignId } : {}) };
  return {
    serial: orderId,
    orderId,
    userId: `u-${orderId}`,
    quantity,
    expiresAt,
    reserved,
    saga: { order, ttlSeconds: 900 },
    actor: 'k-test',
  };
}
const holdBatch = (kind: 'level' | 'campaign', p: string, wh: string | null, items: ReturnType<typeof batchItem>[]) =>
  pool.query('SELECT stockhold_hold_batch($1, $2, $3, $4::jsonb)', [kind, p, wh, JSON.stringify(items)]);

const flashSale = () => openFlashSale(db, 'fs', 'A', 'W1', 4, 4);
const preSale = () =>
  createCampaign(db, {
    id: 'ps',
    kind: 'PRE_SALE',
    sku: 'P',
    warehouseCode: 'W1',
    startsAt: new Date(Date.now() - 60_000).toISOString(),
    endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    expectedAt: new Date(Date.now() + 7_200_000).toISOString(),
    quota: 3,
    perUserLimit: 3,
  });

interface Case {
  readonly writer: string;
  readonly setup?: () => Promise<unknown>;
  readonly act: () => Promise<unknown>;
  /** The events the act leaves, as `type subject`, in any order. */
  readonly events: string[];
}

const cases: Case[] = [
  {
    writer: 'receipt',
    act: () => receiveStock(db, { idempotencyKey: 'r1', sku: 'A', warehouseCode: 'W1', quantity: 3, reason: 'PO-1' }),
    events: ['stock.changed A@W1'],
  },
  {
    writer: 'adjustment',
    act: () =>
      adjustStock(db, { idempotencyKey: 'a1', sku: 'A', warehouseCode: 'W1', delta: -2, reasonCode: 'DAMAGE' }),
    events: ['stock.changed A@W1'],
  },
  {
    writer: 'safety stock',
    act: () => setSafetyStock(db, { idempotencyKey: 's1', sku: 'B', warehouseCode: 'W1', safetyStock: 5 }),
    events: ['stock.changed B@W1', 'stock.out_of_stock B@W1'],
  },
  {
    writer: 'general hold, two levels',
    act: () =>
      hold('o1', [
        { sku: 'A', quantity: 2 },
        { sku: 'B', quantity: 1 },
      ]),
    events: ['stock.changed A@W1', 'stock.changed B@W1', 'order.held o1'],
  },
  {
    writer: 'general hold of the last units',
    act: () => hold('o1', [{ sku: 'B', quantity: 5 }]),
    events: ['stock.changed B@W1', 'stock.out_of_stock B@W1', 'order.held o1'],
  },
  {
    writer: 'late re-reserve',
    act: () => hold('o1:late', [{ sku: 'A', quantity: 1 }], 'o1'),
    events: ['stock.changed A@W1', 'order.held o1'],
  },
  {
    writer: 'hold batch on a level',
    act: () =>
      holdBatch('level', 'A', 'W1', [batchItem('b1', 'A', 4), batchItem('b2', 'A', 9), batchItem('b3', 'A', 6)]),
    events: ['stock.changed A@W1', 'stock.out_of_stock A@W1', 'order.held b1', 'order.held b3'],
  },
  {
    writer: 'confirm',
    setup: () => hold('o1', [{ sku: 'A', quantity: 2 }]),
    act: () => confirmStock(db, 'o1', 'p1'),
    events: ['stock.changed A@W1', 'order.confirmed o1'],
  },
  {
    writer: 'confirm with its payment',
    setup: async () => {
      await hold('o1', [{ sku: 'A', quantity: 2 }]);
      await storePayment(db, { orderId: 'o1', paymentId: 'p1', eventId: 'e1', amountCents: 100 });
    },
    act: () => confirmPayment(db, 'o1', { orderId: 'o1', paymentId: 'p1', eventId: 'e1', amountCents: 100 }),
    events: ['stock.changed A@W1', 'order.confirmed o1', 'payment.settled o1'],
  },
  {
    writer: 'release (expired)',
    setup: () => hold('o1', [{ sku: 'A', quantity: 2 }]),
    act: () => releaseStock(db, 'o1', 'EXPIRED'),
    events: ['stock.changed A@W1', 'order.released o1'],
  },
  {
    writer: 'release of the last units (cancelled)',
    setup: () => hold('o1', [{ sku: 'B', quantity: 5 }]),
    act: () => releaseStock(db, 'o1', 'CANCELLED'),
    events: ['stock.changed B@W1', 'stock.back_in_stock B@W1', 'order.released o1'],
  },
  {
    writer: 'quarantine',
    setup: async () => {
      await perishable(db, 'L');
      await receiveLot(db, 'L', 'W1', 'L1', 4, 10);
    },
    act: () =>
      setLotQuarantine(db, {
        idempotencyKey: 'q1',
        sku: 'L',
        warehouseCode: 'W1',
        lotCode: 'L1',
        quarantined: true,
        reason: 'recall',
      }),
    events: ['stock.changed L@W1', 'stock.out_of_stock L@W1'],
  },
  {
    writer: 'expiry write-off',
    setup: async () => {
      await perishable(db, 'L', 3, 1);
      await receiveLot(db, 'L', 'W1', 'OLD', 2, 0.5);
      await receiveLot(db, 'L', 'W1', 'NEW', 3, 10);
    },
    act: () => writeOffExpiredLots(db, 'run-1'),
    events: ['stock.changed L@W1'],
  },
  {
    writer: 'transfer request, ship, receive',
    setup: () => stock(db, 'A', 'W2', 1),
    act: async () => {
      await requestTransfer(db, {
        transferId: 't1',
        sku: 'A',
        fromWarehouse: 'W1',
        toWarehouse: 'W2',
        quantity: 3,
        receiveWithinSeconds: 3600,
      });
      await shipTransfer(db, 't1', soon());
      await receiveTransfer(db, 't1', { receivedQuantity: 3 });
    },
    events: ['stock.changed A@W1', 'stock.changed A@W1', 'stock.changed A@W2', 'stock.changed A@W2'],
  },
  { writer: 'flash-sale set-aside', act: flashSale, events: ['stock.changed A@W1', 'campaign.changed fs'] },
  {
    writer: 'flash-sale hold batch selling out',
    setup: flashSale,
    act: () => holdBatch('campaign', 'fs', null, [batchItem('f1', 'A', 3, 'fs'), batchItem('f2', 'A', 1, 'fs')]),
    events: ['campaign.changed fs', 'campaign.sold_out fs', 'order.held f1', 'order.held f2'],
  },
  {
    writer: 'campaign end',
    setup: flashSale,
    act: () => endCampaign(db, 'fs'),
    events: ['campaign.changed fs', 'stock.changed A@W1'],
  },
  {
    writer: 'pre-sale order and fulfilment',
    setup: async () => {
      await stock(db, 'P', 'W1', 0);
      await preSale();
    },
    act: async () => {
      await reserveFromCampaign(db, {
        campaignId: 'ps',
        reservationId: 'po1',
        orderId: 'po1',
        userId: 'u1',
        lines: [{ sku: 'P', warehouseCode: 'W1', quantity: 2 }],
        expiresAt: soon(),
      });
      await fulfilPreSale(db, 'ps', 'fulfil-1', 5);
    },
    events: [
      'campaign.changed ps',
      'campaign.changed ps',
      'order.held po1',
      'stock.changed P@W1',
      'stock.back_in_stock P@W1',
    ],
  },
  {
    writer: 'stock-state move (available → damaged), then a write-off from damaged',
    act: async () => {
      await moveStock(db, {
        moveId: 'm1',
        sku: 'A',
        warehouseCode: 'W1',
        from: 'AVAILABLE',
        to: 'DAMAGED',
        quantity: 2,
        reason: 'crushed',
      });
      await moveStock(db, {
        moveId: 'm2',
        sku: 'A',
        warehouseCode: 'W1',
        from: 'DAMAGED',
        to: 'WRITE_OFF',
        quantity: 2,
        reason: 'binned',
      });
    },
    events: ['stock.changed A@W1', 'stock.changed A@W1'],
  },
  {
    writer: 'return of a confirmed order (restock one, one damaged)',
    setup: async () => {
      await hold('rt1', [{ sku: 'A', quantity: 2 }]);
      await confirmStock(db, 'rt1', 'p-rt1');
    },
    act: () =>
      receiveReturn(db, {
        returnId: 'ret-1',
        orderId: 'rt1',
        lines: [
          { sku: 'A', warehouseCode: 'W1', quantity: 1, disposition: 'RESTOCK' },
          { sku: 'A', warehouseCode: 'W1', quantity: 1, disposition: 'DAMAGED' },
        ],
      }),
    events: ['stock.changed A@W1'],
  },
  {
    writer: 'hold extension (order.extended; no level moves)',
    setup: () => hold('x1', [{ sku: 'A', quantity: 1 }]),
    act: () =>
      extendHold(
        db,
        { orderId: 'x1', extensionId: 'ext-1', seconds: 60, reason: '3-D Secure', source: ExtensionSource.API },
        { maxSeconds: 900, maxTotalSeconds: 1800, maxCount: 3 },
      ),
    events: ['order.extended x1'],
  },
  {
    writer: 'order edit (order.edited; only the delta moves a level)',
    setup: () => hold('ed1', [{ sku: 'A', quantity: 1 }]),
    act: () =>
      editOrder(db, { orderId: 'ed1', editId: 'edit-1', lines: [{ sku: 'A', warehouseCode: 'W1', quantity: 3 }] }),
    events: ['order.edited ed1', 'stock.changed A@W1'],
  },
  {
    writer: 'alert',
    act: () => raiseAlert(db, { kind: 'TRANSFER_OVERDUE', subject: 't9', sku: 'A', warehouseCode: 'W1', details: {} }),
    events: ['alert.transfer_overdue t9'],
  },
  {
    writer: 'levels inserted by hand: an empty one (no event), one with stock and its ledger row',
    setup: () => upsertWarehouse(db, 'W2', 'W2'),
    act: () => db.$executeRaw`
      WITH ledger AS (
        INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta) VALUES ('A', 'W2', 'RECEIVE:hand', 'h1', 7, 0))
      INSERT INTO inventory_levels (sku, warehouse_code, on_hand) VALUES ('B', 'W2', 0), ('A', 'W2', 7)`,
    events: ['stock.changed A@W2', 'stock.back_in_stock A@W2'],
  },
];

describe('every writer leaves exactly its events', () => {
  it.each(cases)('$writer', async ({ setup, act, events }) => {
    await setup?.();
    await assignAll(db);
    const mark = await lastEventId(db);
    await act();
    await assignAll(db);
    expect((await eventsSince(db, mark)).sort()).toEqual([...events].sort());
  });
});

describe('a change that does not commit leaves no event', () => {
  const rolledBack: { name: string; act: () => Promise<unknown> }[] = [
    {
      name: 'a hold short on its second level (savepoint rolled back)',
      act: () =>
        hold('o1', [
          { sku: 'A', quantity: 2 },
          { sku: 'B', quantity: 6 },
        ]),
    },
    { name: 'a hold short on a batch', act: () => holdBatch('level', 'B', 'W1', [batchItem('b1', 'B', 6)]) },
    {
      name: 'an adjustment below zero',
      act: () =>
        adjustStock(db, { idempotencyKey: 'a1', sku: 'B', warehouseCode: 'W1', delta: -6, reasonCode: 'LOSS' }).catch(
          () => undefined,
        ),
    },
    {
      name: 'a CHECK violation',
      act: () =>
        db.$executeRaw`UPDATE inventory_levels SET reserved = on_hand + 1 WHERE sku = 'A'`.catch(() => undefined),
    },
    {
      name: 'an insert of a level that already exists, skipped ON CONFLICT',
      act: () =>
        db.$executeRaw`INSERT INTO inventory_levels (sku, warehouse_code, on_hand) VALUES ('A', 'W1', 7) ON CONFLICT DO NOTHING`,
    },
    {
      name: 'a rolled-back transaction',
      act: () =>
        db
          .$transaction(async (tx) => {
            await tx.$executeRaw`UPDATE inventory_levels SET on_hand = on_hand + 1, version = version + 1 WHERE sku = 'A'`;
            throw new Error('rollback');
          })
          .catch(() => undefined),
    },
  ];
  it.each(rolledBack)('$name', async ({ act }) => {
    await assignAll(db);
    const mark = await lastEventId(db);
    const levels = await db.inventoryLevel.findMany({ orderBy: { sku: 'asc' } });
    await act();
    await assignAll(db);
    expect(await eventsSince(db, mark)).toEqual([]);
    expect(await db.inventoryLevel.findMany({ orderBy: { sku: 'asc' } })).toEqual(levels);
  });
});

describe('event content', () => {
  it('a hold batch: one stock.changed with the batch as its causes and the level before and after', async () => {
    await holdBatch('level', 'A', 'W1', [batchItem('b1', 'A', 4), batchItem('b2', 'A', 3)]);
    await assignAll(db);
    const [row] = await db.$queryRaw<{ event: { type: string; data: Record<string, unknown> } }[]>`
      SELECT event FROM event_outbox WHERE type = 'stock.changed' ORDER BY position DESC LIMIT 1`;
    expect(row.event).toMatchObject({
      specversion: '1.0',
      source: '/stockhold',
      type: 'stock.changed',
      subject: 'A@W1',
      datacontenttype: 'application/json',
      data: {
        fromVersion: 1,
        toVersion: 2,
        before: { onHand: 10, reserved: 0, available: 10 },
        after: { onHand: 10, reserved: 7, available: 3 },
        causes: [
          { reason: 'RESERVE', reference: 'b1', reservedDelta: 4, actor: 'k-test' },
          { reason: 'RESERVE', reference: 'b2', reservedDelta: 3, actor: 'k-test' },
        ],
      },
    });
  });

  it('order.released carries its reason and lines; payment.settled its state', async () => {
    await hold('o1', [{ sku: 'A', quantity: 2 }]);
    await releaseStock(db, 'o1', 'EXPIRED');
    await hold('o2', [{ sku: 'A', quantity: 1 }]);
    for (const paymentId of ['p1', 'p2']) {
      const paid = { orderId: 'o2', paymentId, eventId: `e-${paymentId}`, amountCents: 100 };
      await storePayment(db, paid);
      await confirmPayment(db, 'o2', paid);
    }
    await assignAll(db);
    const rows = await db.$queryRaw<{ event: { type: string; data: Record<string, unknown> } }[]>`
      SELECT event FROM event_outbox WHERE type IN ('order.released', 'payment.settled') ORDER BY position`;
    expect(rows.map((r) => r.event)).toMatchObject([
      {
        type: 'order.released',
        subject: 'o1',
        data: { reason: 'EXPIRED', status: 'RELEASED', lines: [{ sku: 'A', warehouseCode: 'W1', quantity: 2 }] },
      },
      {
        type: 'payment.settled',
        subject: 'o2',
        data: { paymentId: 'p1', state: 'CONFIRMED', previousState: 'PENDING' },
      },
      { type: 'payment.settled', subject: 'o2', data: { paymentId: 'p2', state: 'DUPLICATE_CHARGE' } },
    ]);
  });
});

describe('reconciliation: events vs versions', () => {
  it('reports a level whose events lost one, or whose version moved on without one', async () => {
    await hold('o1', [{ sku: 'A', quantity: 2 }]);
    await releaseStock(db, 'o1', 'CANCELLED');
    expect((await findDrifts(db)).drifts).toEqual([]);
    // A lost event (planted by the owner; the chain breaks at version 2) …
    await db.$executeRaw`DELETE FROM event_outbox WHERE type = 'stock.changed' AND subject = 'A@W1' AND (data->>'toVersion')::int = 2`;
    // … and a version bumped with its trigger off (as a restore of an old dump would leave it).
    await db.$executeRawUnsafe(`ALTER TABLE inventory_levels DISABLE TRIGGER inventory_levels_event`);
    await db.$executeRaw`UPDATE inventory_levels SET version = version + 1 WHERE sku = 'B'`;
    await db.$executeRawUnsafe(`ALTER TABLE inventory_levels ENABLE TRIGGER inventory_levels_event`);
    expect((await findDrifts(db)).drifts).toEqual([
      { check: 'EVENTS_VS_VERSIONS', sku: 'A', warehouseCode: 'W1', lotCode: null, recorded: 1, expected: 0 },
      { check: 'EVENTS_VS_VERSIONS', sku: 'B', warehouseCode: 'W1', lotCode: null, recorded: 2, expected: 1 },
    ]);
    await resetDb(db); // what afterEach checks is gone with it
  });
});
