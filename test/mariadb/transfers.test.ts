/**
 * Transfers between warehouses on MariaDB (issue 22) through the real API (inject) and the
 * real worker on the dev server, mirroring test/workflows/transfer.test.ts: the hold at the
 * source, the shipment into the destination's incoming bucket, the receipt into the same lots
 * (a shortfall booked as a loss), the cancel, the overdue alert and the return; every step
 * replayed answers once; never negative; reconciliation clean after each (INCOMING_VS_TRANSFERS
 * runs now that the table exists).
 */
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'mariadb';
import { asSystem, type Db } from '../../data/db';
import { AVAILABLE } from '../../data/mariadb/levels';
import { findDriftsOnMariadb, mariadbDrifts } from '../../data/mariadb/reconcile';
import { upsertProduct } from '../../data/stock/catalog';
import { receiveStock } from '../../data/stock/stock-admin';
import { cancelTransfer, requestTransfer, shipTransfer } from '../../data/transfers/transfers';
import { eventually, useAppStack } from '../helpers/app';
import { describeMariadb, mariadbPool, seedLevel } from '../helpers/mariadb';

const TASK_QUEUE = 'mariadb-transfers-test';
const ADMIN = { authorization: 'Bearer test-admin-token' };
const day = 86_400_000;

describeMariadb('transfers on MariaDB', () => {
  // An overdue shipment within the test: three seconds to receive, unless the request says hours.
  const stack = useAppStack('dev', TASK_QUEUE, { TRANSFER_RECEIVE_DEADLINE: '3s' }, undefined, 'mariadb');
  let app: FastifyInstance;
  let db: Db;
  let owner: Pool;

  beforeAll(async () => {
    ({ app, db } = stack);
    owner = mariadbPool(4);
    await seedLevel(owner, 'SEED', 'SRC', 1);
    await seedLevel(owner, 'SEED', 'DST', 1);
  });
  afterAll(async () => {
    await owner?.end();
  });
  afterEach(async () => {
    expect(await mariadbDrifts(owner)).toEqual([]);
    // The full reconciliation (GET /admin/reconciliation's), INCOMING_VS_TRANSFERS and LOTS_VS_ON_HAND included.
    expect((await findDriftsOnMariadb(owner)).drifts).toEqual([]);
    const [{ negative }] = await owner.query<{ negative: bigint }[]>(
      `SELECT COUNT(*) AS negative FROM inventory_levels il
        WHERE il.on_hand < 0 OR il.reserved < 0 OR il.incoming < 0 OR ${AVAILABLE} < 0`,
    );
    expect(Number(negative)).toBe(0);
  });

  const post = (url: string, payload?: object) => app.inject({ method: 'POST', url, payload, headers: ADMIN });
  const create = (transferId: string, sku: string, quantity: number, extra: object = {}) =>
    post('/transfers', { transferId, sku, fromWarehouse: 'SRC', toWarehouse: 'DST', quantity, ...extra });
  const stock = async (sku: string, warehouseCode: string, quantity: number) => {
    await upsertProduct(db, sku, sku);
    await receiveStock(db, {
      idempotencyKey: `in-${sku}-${warehouseCode}`,
      sku,
      warehouseCode,
      quantity,
      reason: 'in',
    });
  };

  /** [onHand, reserved, incoming, available] at SRC and DST. */
  async function ends(sku: string) {
    const rows = await owner.query<
      { warehouse_code: string; on_hand: number; reserved: number; incoming: number; available: string }[]
    >(
      `SELECT il.warehouse_code, il.on_hand, il.reserved, il.incoming, ${AVAILABLE} AS available
         FROM inventory_levels il WHERE il.sku = ?`,
      [sku],
    );
    const at = (wh: string) => {
      const l = rows.find((r) => r.warehouse_code === wh);
      return l ? [l.on_hand, l.reserved, l.incoming, Number(l.available)] : [0, 0, 0, 0];
    };
    return { SRC: at('SRC'), DST: at('DST') };
  }

  it('request → ship → receive: availability right at both ends at every step, each step once', async () => {
    await stock('T1', 'SRC', 10);
    await stock('T1', 'DST', 1);
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

    // The data functions the activities call, replayed directly: each answers its recorded outcome, moves nothing again.
    expect(await asSystem('transfer', () => shipTransfer(db, 't-1', new Date().toISOString()))).toMatchObject({
      status: 'done',
      transferStatus: 'SHIPPED',
    });
    expect(await ends('T1')).toEqual({ SRC: [6, 0, 0, 6], DST: [5, 0, 0, 5] });
    const ledger = await owner.query<
      { reason: string; warehouse_code: string; on_hand_delta: number; incoming_delta: number }[]
    >(
      `SELECT reason, warehouse_code, on_hand_delta, incoming_delta FROM stock_movements
        WHERE reference = 'transfer:t-1' ORDER BY id`,
    );
    expect(ledger).toEqual([
      { reason: 'RESERVE', warehouse_code: 'SRC', on_hand_delta: 0, incoming_delta: 0 },
      { reason: 'TRANSFER_SHIP', warehouse_code: 'SRC', on_hand_delta: -4, incoming_delta: 0 },
      { reason: 'TRANSFER_SHIP', warehouse_code: 'DST', on_hand_delta: 0, incoming_delta: 4 },
      { reason: 'TRANSFER_RECEIVE', warehouse_code: 'DST', on_hand_delta: 4, incoming_delta: -4 },
    ]);
    // GET /admin/transfers: newest first, one keyset page at a time.
    await create('t-1b', 'T1', 1);
    const list = (q: string) => app.inject({ method: 'GET', url: `/admin/transfers?${q}`, headers: ADMIN });
    const first = (await list('sku=T1&limit=1')).json();
    expect(first.data).toEqual([expect.objectContaining({ transferId: 't-1b', status: 'REQUESTED' })]);
    const second = (await list(`sku=T1&limit=1&cursor=${first.nextCursor}`)).json();
    expect([second.data, second.hasMore]).toEqual([
      [expect.objectContaining({ transferId: 't-1', status: 'RECEIVED', receivedQuantity: 4 })],
      false,
    ]);
    expect((await list('stage=RECEIVED&sku=T1')).json().data).toHaveLength(1);
    expect((await post('/transfers/t-1b/cancel')).json()).toMatchObject({ stage: 'CANCELLED' });
  });

  it('partial receipt of lots: FEFO out, the same lots in with their dates, the shortfall booked as a loss', async () => {
    await upsertProduct(db, 'T2', 'T2', { lotTracked: true });
    const use = (days: number) => new Date(Date.now() + days * day).toISOString();
    await receiveStock(db, {
      idempotencyKey: 'l-late',
      sku: 'T2',
      warehouseCode: 'SRC',
      quantity: 5,
      reason: 'in',
      lotCode: 'LATE',
      expiresAt: use(20),
    });
    await receiveStock(db, {
      idempotencyKey: 'l-early',
      sku: 'T2',
      warehouseCode: 'SRC',
      quantity: 3,
      reason: 'in',
      lotCode: 'EARLY',
      expiresAt: use(6),
    });
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
    const [loss] = await owner.query<{ warehouse_code: string; incoming_delta: number; on_hand_delta: number }[]>(
      "SELECT warehouse_code, incoming_delta, on_hand_delta FROM stock_movements WHERE reason = 'TRANSFER_LOSS:crushed crate'",
    );
    expect(loss).toEqual({ warehouse_code: 'DST', incoming_delta: -2, on_hand_delta: 0 });
    const lots = await owner.query<{ warehouse_code: string; lot_code: string; quantity: number; expires_at: Date }[]>(
      "SELECT warehouse_code, lot_code, quantity, expires_at FROM stock_lots WHERE sku = 'T2' ORDER BY warehouse_code, lot_code",
    );
    expect(lots.map((l) => [l.warehouse_code, l.lot_code, l.quantity])).toEqual([
      ['DST', 'EARLY', 3],
      ['DST', 'LATE', 1],
      ['SRC', 'EARLY', 0],
      ['SRC', 'LATE', 2],
    ]);
    expect(lots[0].expires_at).toEqual(lots[2].expires_at);
  });

  it('cancel before shipping releases the hold; shipping afterwards is refused', async () => {
    await stock('T3', 'SRC', 5);
    await create('t-3', 'T3', 5);
    expect(await ends('T3')).toEqual({ SRC: [5, 5, 0, 0], DST: [0, 0, 0, 0] });
    expect((await post('/transfers/t-3/cancel')).json()).toMatchObject({ stage: 'CANCELLED' });
    expect(await ends('T3')).toEqual({ SRC: [5, 0, 0, 5], DST: [0, 0, 0, 0] });
    const ship = await post('/transfers/t-3/ship');
    expect([ship.statusCode, ship.json().code]).toEqual([409, 'TRANSFER_CONFLICT']);
    expect(await asSystem('transfer', () => cancelTransfer(db, 't-3'))).toMatchObject({ transferStatus: 'CANCELLED' });
    expect(await ends('T3')).toEqual({ SRC: [5, 0, 0, 5], DST: [0, 0, 0, 0] });
  });

  it('never received: one overdue alert at the deadline, then returned to the source', async () => {
    await stock('T4', 'SRC', 5);
    await create('t-4', 'T4', 3);
    await post('/transfers/t-4/ship');
    expect(await ends('T4')).toEqual({ SRC: [2, 0, 0, 2], DST: [0, 0, 3, 0] });
    const overdue = await eventually(
      async () => (await app.inject({ method: 'GET', url: '/transfers/t-4', headers: ADMIN })).json(),
      (v) => v.overdue === true,
      15_000,
    );
    expect(overdue).toMatchObject({ stage: 'SHIPPED', overdue: true });
    // The workflow marks the transfer overdue, then raises the alert (an activity): waited for.
    const alerts = await eventually(
      () =>
        owner.query<{ subject: string; warehouse_code: string }[]>(
          "SELECT subject, warehouse_code FROM stock_alerts WHERE kind = 'TRANSFER_OVERDUE'",
        ),
      (rows) => rows.length > 0,
      10_000,
    );
    expect(alerts.map((a) => [a.subject, a.warehouse_code])).toEqual([['transfer:t-4', 'DST']]);
    expect((await post('/transfers/t-4/return')).json()).toMatchObject({ stage: 'RETURNED' });
    expect(await ends('T4')).toEqual({ SRC: [5, 0, 0, 5], DST: [0, 0, 0, 0] });
  });

  it('refused requests: not enough at the source, unknown warehouse, id reused', async () => {
    await stock('T5', 'SRC', 2);
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
    expect(await ends('T5')).toEqual({ SRC: [2, 0, 0, 2], DST: [0, 0, 0, 0] });
  });

  it('many transfers out of one level at once: never more than it holds, each request once', async () => {
    await stock('T6', 'SRC', 10);
    const ids = Array.from({ length: 8 }, (_, i) => `t6-${i}`);
    // Each request twice at once, straight to the activity's data function (as two workers would).
    const outcomes = await Promise.all(
      [...ids, ...ids].map((transferId) =>
        asSystem('transfer', () =>
          requestTransfer(db, {
            transferId,
            sku: 'T6',
            fromWarehouse: 'SRC',
            toWarehouse: 'DST',
            quantity: 3,
            receiveWithinSeconds: 3600,
          }),
        ),
      ),
    );
    const requested = ids.filter((_, i) => outcomes[i].status === 'requested');
    expect(requested).toHaveLength(3);
    ids.forEach((_, i) => expect(outcomes[i + ids.length]).toEqual(outcomes[i]));
    expect(await ends('T6')).toEqual({ SRC: [10, 9, 0, 1], DST: [0, 0, 0, 0] });
    // Shipped from both directions at once with a transfer the other way: byte-ordered locks, no deadlock.
    await stock('T6', 'DST', 4);
    await asSystem('transfer', () =>
      requestTransfer(db, {
        transferId: 't6-back',
        sku: 'T6',
        fromWarehouse: 'DST',
        toWarehouse: 'SRC',
        quantity: 4,
        receiveWithinSeconds: 3600,
      }),
    );
    const deadline = new Date(Date.now() + day).toISOString();
    const ships = await Promise.all(
      [...requested, 't6-back'].map((id) => asSystem('transfer', () => shipTransfer(db, id, deadline))),
    );
    expect(ships.map((s) => s.status)).toEqual(['done', 'done', 'done', 'done']);
    expect(await ends('T6')).toEqual({ SRC: [1, 0, 4, 1], DST: [0, 0, 9, 0] });
    for (const id of requested) await asSystem('transfer', () => cancelTransfer(db, id)); // refused: shipped
    expect(await ends('T6')).toEqual({ SRC: [1, 0, 4, 1], DST: [0, 0, 9, 0] });
    // Reconciliation's INCOMING_VS_TRANSFERS reads this table: a shipment marked received
    // behind the service's back leaves the destination's incoming unexplained.
    await owner.query("UPDATE transfers SET status = 'RECEIVED' WHERE id = ?", [requested[0]]);
    expect((await findDriftsOnMariadb(owner)).drifts).toEqual([
      expect.objectContaining({
        check: 'INCOMING_VS_TRANSFERS',
        sku: 'T6',
        warehouseCode: 'DST',
        recorded: 9,
        expected: 6,
      }),
    ]);
    await owner.query("UPDATE transfers SET status = 'SHIPPED' WHERE id = ?", [requested[0]]);
  });
});
