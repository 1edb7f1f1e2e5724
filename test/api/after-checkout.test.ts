/**
 * Issue 19 items 5, 7 and 2 through inject() on the real PostgreSQL, Redis and a Temporal dev server
 * (real time: the holds stay held while read): the stock history says who moved what (a key, the bootstrap key, or
 * `system:<writer>`) and groups one transaction's rows; every list pages by one keyset cursor
 * that survives inserts while paging and refuses an edited cursor; an order's edit moves only its
 * deltas, all or nothing, and is ordered with a payment by the order's serial lock.
 */
import type { FastifyInstance } from 'fastify';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Db } from '../../data/db';
import { createKey } from '../../data/keys/api-keys';
import { reserveStock } from '../../data/orders/reservations';
import { Scope } from '../../domain/api-keys';
import { invariantViolations, level, openFlashSale, stock } from '../helpers/db';
import { blockSerial } from '../helpers/locks';
import { eventually, signedPayment, useAppStack } from '../helpers/app';

const TASK_QUEUE = 'lists-test';
const stack = useAppStack('dev', TASK_QUEUE, { RESERVATION_TTL_SECONDS: '600' });
let db: Db;
let app: FastifyInstance;
let env: TestWorkflowEnvironment;
beforeAll(() => {
  ({ db, app, env } = stack);
});

interface Page<T> {
  data: T[];
  hasMore: boolean;
  nextCursor: string | null;
}

async function get<T>(url: string, headers?: Record<string, string>): Promise<Page<T>> {
  const res = await app.inject({ method: 'GET', url, headers });
  expect([res.statusCode, url]).toEqual([200, url]);
  return res.json<Page<T>>();
}

/** Every row of a list, page by page; `between` runs after each page (inserts while paging). */
async function all<T>(
  url: string,
  limit: number,
  between: (page: number) => Promise<void> = async () => undefined,
): Promise<T[]> {
  const rows: T[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < 100; page++) {
    const sep = url.includes('?') ? '&' : '?';
    const p: Page<T> = await get<T>(
      `${url}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
    );
    rows.push(...p.data);
    expect(p.data.length).toBeLessThanOrEqual(limit);
    if (!p.hasMore) {
      expect(p.nextCursor).toBeNull();
      return rows;
    }
    cursor = p.nextCursor;
    await between(page);
  }
  throw new Error('too many pages');
}

describe('keyset paging', () => {
  it('pages 250 rows while 50 are inserted: each earlier row exactly once, in order', async () => {
    await stock(db, 'PAGED', 'W1', 1);
    // 250 ledger rows, and 250 orders of which 100 share one created_at (ties broken by id).
    await db.$executeRaw`
      INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta)
      SELECT 'PAGED', 'W1', 'ADJUST:COUNT', 'paging-' || g, 0, 0 FROM generate_series(1, 250) g`;
    await db.$executeRaw`
      INSERT INTO reservations (id, order_id, user_id, status, expires_at, created_at)
      SELECT 'pg-' || lpad(g::text, 3, '0'), 'pg-' || lpad(g::text, 3, '0'), 'u-paging', 'RELEASED', now(),
             CASE WHEN g <= 100 THEN timestamptz '2026-01-01T00:00:00Z' ELSE timestamptz '2026-01-01T00:00:00Z' + g * interval '1 second' END
        FROM generate_series(1, 250) g`;
    const earlierMovements = (
      await db.stockMovement.findMany({ where: { sku: 'PAGED', reason: 'ADJUST:COUNT' }, select: { id: true } })
    ).map((m) => m.id.toString());
    expect(earlierMovements).toHaveLength(250);

    let inserted = 0;
    const insertTen = async () => {
      await db.$executeRaw`
        INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta)
        SELECT 'PAGED', 'W1', 'ADJUST:COUNT', 'paging-new-' || (${inserted}::int + g), 0, 0 FROM generate_series(1, 10) g`;
      await db.$executeRaw`
        INSERT INTO reservations (id, order_id, user_id, status, expires_at, created_at)
        SELECT 'pg-new-' || (${inserted}::int + g), 'pg-new-' || (${inserted}::int + g), 'u-paging', 'RELEASED', now(),
               CASE WHEN g % 2 = 0 THEN now() ELSE timestamptz '2026-01-01T00:00:00Z' END
          FROM generate_series(1, 10) g`;
      inserted += 10;
    };
    const movements = await all<{ id: string; reference: string }>(
      '/admin/movements?sku=PAGED&kind=ADJUST',
      40,
      async (page) => {
        if (page < 5) await insertTen();
      },
    );
    expect(inserted).toBe(50);
    const seen = movements.map((m) => m.id).filter((id) => earlierMovements.includes(id));
    expect(seen).toHaveLength(250);
    expect(new Set(seen).size).toBe(250);
    expect(movements.map((m) => BigInt(m.id))).toEqual(
      [...movements.map((m) => BigInt(m.id))].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)),
    );

    // Orders: (created_at, id) newest first; 100 share a created_at, the new ones land before
    // the cursor or, sharing the old instant with a higher id, among rows already passed.
    const orders = await all<{ orderId: string }>('/orders?user=u-paging', 40, async (page) => {
      if (page < 5) await insertTen();
    });
    expect(inserted).toBe(100);
    const earlierOrders = orders.map((o) => o.orderId).filter((id) => /^pg-\d{3}$/.test(id));
    expect(earlierOrders).toHaveLength(250);
    expect(new Set(earlierOrders).size).toBe(250);
    expect(earlierOrders.slice(0, 3)).toEqual(['pg-250', 'pg-249', 'pg-248']);
    expect(earlierOrders.slice(-2)).toEqual(['pg-002', 'pg-001']);
  });

  it('refuses an edited cursor, or one of another list, with 400 INVALID_CURSOR', async () => {
    const first = await get<unknown>('/admin/movements?sku=PAGED&limit=5');
    const cursor = first.nextCursor!;
    expect(typeof cursor).toBe('string');
    const dot = cursor.lastIndexOf('.');
    const payload = Buffer.from(cursor.slice(0, dot), 'base64url')
      .toString()
      .replace(/"(\d+)"/, (_, n: string) => `"${BigInt(n) - 1n}"`);
    const tampered = [
      `${Buffer.from(payload).toString('base64url')}${cursor.slice(dot)}`,
      cursor.slice(0, -1) + (cursor.endsWith('0') ? '1' : '0'),
      'not-a-cursor',
      (await get<unknown>('/orders?limit=1')).nextCursor!,
    ];
    for (const bad of tampered) {
      const res = await app.inject({
        method: 'GET',
        url: `/admin/movements?sku=PAGED&limit=5&cursor=${encodeURIComponent(bad)}`,
      });
      expect([res.statusCode, res.json()]).toEqual([
        400,
        { code: 'INVALID_CURSOR', message: expect.stringContaining('start again') },
      ]);
    }
    const res = await app.inject({ method: 'GET', url: `/admin/levels?cursor=${encodeURIComponent(tampered[0]!)}` });
    expect([res.statusCode, res.json().code]).toEqual([400, 'INVALID_CURSOR']);
  });
});

interface HistoryRow {
  txId: string | null;
  kind: string;
  reason: string | null;
  reference: string;
  actor: string | null;
  actorName: string | null;
  sku: string;
  warehouseCode: string;
  lotCode: string | null;
  change: { onHand: number; reserved: number };
  after: { onHand: number; reserved: number };
}

describe('the stock history says who, why, what and the level after', () => {
  it("a reason filter's _ is literal (not LIKE's wildcard): reason=lot_7 is not lotX7", async () => {
    await stock(db, 'LIKE', 'W1', 10);
    const key = await createKey(db, { name: 'like', scopes: [Scope.ADMIN], createdBy: 'test' });
    for (const reason of ['lot_7', 'lotX7'])
      expect(
        (
          await app.inject({
            method: 'POST',
            url: '/admin/receipts',
            headers: { authorization: `Bearer ${key.key}`, 'idempotency-key': `like-${reason}` },
            payload: { sku: 'LIKE', warehouseCode: 'W1', quantity: 1, reason },
          })
        ).statusCode,
      ).toBe(201);
    expect((await get<HistoryRow>('/admin/movements?sku=LIKE&reason=lot_7')).data.map((m) => m.reason)).toEqual([
      'lot_7',
    ]);
    expect((await get<HistoryRow>('/admin/movements?sku=LIKE&kind=RECEIVE')).data.map((m) => m.reason)).toEqual([
      'lotX7',
      'lot_7',
      'fixture',
    ]);
  });

  it('a receipt by key X shows X; a sweeper release shows system:sweeper', async () => {
    await stock(db, 'WHO', 'W1', 10);
    await stock(db, 'WHO', 'W2', 10);
    const key = await createKey(db, { name: 'dock scanner', scopes: [Scope.ADMIN], createdBy: 'test' });
    const receipt = await app.inject({
      method: 'POST',
      url: '/admin/receipts',
      headers: { authorization: `Bearer ${key.key}`, 'idempotency-key': 'who-receipt-1' },
      payload: { sku: 'WHO', warehouseCode: 'W1', quantity: 5, reason: 'po-77' },
    });
    expect(receipt.statusCode).toBe(201);
    const received = await get<HistoryRow>('/admin/movements?sku=WHO&kind=RECEIVE&reason=po-77');
    expect(received.data).toEqual([
      expect.objectContaining({
        kind: 'RECEIVE',
        reason: 'po-77',
        reference: 'admin:who-receipt-1',
        actor: key.id,
        actorName: 'dock scanner',
        change: { onHand: 5, reserved: 0, incoming: 0, damaged: 0, qualityControl: 0 },
        after: { onHand: 15, reserved: 0, incoming: 0 },
      }),
    ]);
    expect((await get<HistoryRow>(`/admin/movements?actor=${key.id}`)).data).toHaveLength(1);

    // An orphan hold past expiry (no saga): the sweeper releases it, as the system.
    const past = new Date(Date.now() - 10 * 60_000).toISOString();
    await reserveStock(db, {
      reservationId: 'who-orphan',
      orderId: 'who-orphan',
      userId: 'u-who',
      lines: [
        { sku: 'WHO', warehouseCode: 'W1', quantity: 3 },
        { sku: 'WHO', warehouseCode: 'W2', quantity: 2 },
      ],
      expiresAt: past,
    });
    const holds = await get<{ orderId: string; pastExpiry: boolean }>('/admin/holds?sku=WHO&pastExpiry=true');
    expect(holds.data).toEqual([expect.objectContaining({ orderId: 'who-orphan', pastExpiry: true })]);
    expect((await get<unknown>('/admin/holds?sku=WHO&pastExpiry=false')).data).toEqual([]);
    await env.client.workflow.execute('sweeperWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: 'lists-sweep',
      args: [60],
    });

    const history = (await get<HistoryRow>('/admin/movements?order=who-orphan')).data;
    expect(history.map((m) => [m.kind, m.warehouseCode, m.actor, m.change.reserved])).toEqual([
      ['RELEASE', 'W2', 'system:sweeper', -2],
      ['RELEASE', 'W1', 'system:sweeper', -3],
      ['RESERVE', 'W2', null, 2],
      ['RESERVE', 'W1', null, 3],
    ]);
    // The rows of one transaction are one group: the hold's two lines, the release's two.
    const [r2, r1, h2, h1] = history;
    expect(r1!.txId).toEqual(r2!.txId);
    expect(h1!.txId).toEqual(h2!.txId);
    expect(r1!.txId).not.toEqual(h1!.txId);
    expect(history[1]!.after).toEqual({ onHand: 15, reserved: 0, incoming: 0 });
    expect((await get<unknown>('/admin/holds?sku=WHO')).data).toEqual([]);
    expect((await get<HistoryRow>('/admin/movements?actor=system:sweeper&sku=WHO&warehouse=W1')).data).toHaveLength(1);
  });

  it('filters by kind, reason, lot, actor and time range', async () => {
    const before = new Date().toISOString();
    await stock(db, 'FILT', 'W1', 7);
    const all = (await get<HistoryRow>('/admin/movements?sku=FILT')).data;
    expect(all).toEqual([expect.objectContaining({ kind: 'RECEIVE', reason: 'fixture', actor: null })]);
    expect((await get<HistoryRow>(`/admin/movements?sku=FILT&from=${before}`)).data).toHaveLength(1);
    expect((await get<HistoryRow>(`/admin/movements?sku=FILT&to=${before}`)).data).toHaveLength(0);
    expect((await get<HistoryRow>('/admin/movements?sku=FILT&kind=RESERVE')).data).toHaveLength(0);
    expect((await get<HistoryRow>('/admin/movements?sku=FILT&reason=other')).data).toHaveLength(0);
    expect((await get<HistoryRow>('/admin/movements?sku=FILT&lot=L9')).data).toHaveLength(0);
    expect((await get<HistoryRow>('/admin/movements?sku=FILT&warehouse=W2')).data).toHaveLength(0);
    const bad = await app.inject({ method: 'GET', url: '/admin/movements?from=yesterday' });
    expect([bad.statusCode, bad.json().code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});

describe('lists of what exists', () => {
  it('orders, payments, transfers, products, warehouses, levels and campaigns page with one shape', async () => {
    await stock(db, 'LIST-A', 'WL1', 5);
    await stock(db, 'LIST-B', 'WL2', 5);
    const placed = await app.inject({
      method: 'POST',
      url: '/orders',
      payload: { orderId: 'list-o1', userId: 'u-list', lines: [{ sku: 'LIST-A', warehouseCode: 'WL1', quantity: 2 }] },
    });
    expect(placed.statusCode).toBe(201);
    const orders = await get<{ orderId: string; status: string; lines: unknown[] }>(
      '/orders?sku=LIST-A&status=RESERVED',
    );
    expect(orders).toEqual({
      data: [
        expect.objectContaining({
          orderId: 'list-o1',
          status: 'RESERVED',
          lines: [{ sku: 'LIST-A', warehouseCode: 'WL1', quantity: 2 }],
        }),
      ],
      hasMore: false,
      nextCursor: null,
    });
    expect((await get<unknown>('/orders?sku=LIST-B')).data).toEqual([]);
    expect(
      (await get<unknown>(`/orders?user=u-list&createdFrom=${new Date(Date.now() + 60_000).toISOString()}`)).data,
    ).toEqual([]);

    // A key without scope admin sees the orders it placed, no other.
    const shop = await createKey(db, { name: 'shop', scopes: [Scope.ORDERS], createdBy: 'test' });
    const asShop = { authorization: `Bearer ${shop.key}` };
    expect((await get<unknown>('/orders?user=u-list', asShop)).data).toEqual([]);
    const mine = await app.inject({
      method: 'POST',
      url: '/orders',
      headers: asShop,
      payload: { orderId: 'list-o2', userId: 'u-list', lines: [{ sku: 'LIST-B', warehouseCode: 'WL2', quantity: 1 }] },
    });
    expect(mine.statusCode).toBe(201);
    expect((await get<{ orderId: string }>('/orders?user=u-list', asShop)).data.map((o) => o.orderId)).toEqual([
      'list-o2',
    ]);
    expect((await get<{ orderId: string }>('/orders?user=u-list')).data.map((o) => o.orderId)).toEqual([
      'list-o2',
      'list-o1',
    ]);
    expect((await app.inject({ method: 'GET', url: '/admin/holds', headers: asShop })).statusCode).toBe(403);

    await db.payment.create({
      data: {
        orderId: 'list-o1',
        paymentId: 'p1',
        eventId: 'e1',
        amountCents: 100,
        state: 'REFUND_REQUIRED',
        settledAt: new Date(),
      },
    });
    expect(
      (await get<{ paymentId: string }>('/admin/payments?state=REFUND_REQUIRED')).data.map((p) => p.paymentId),
    ).toEqual(['p1']);
    expect((await get<unknown>('/admin/payments?state=CONFIRMED')).data).toEqual([]);

    await db.transfer.create({
      data: { id: 't-list', sku: 'LIST-A', fromWarehouse: 'WL1', toWarehouse: 'WL2', quantity: 1, status: 'REQUESTED' },
    });
    expect(
      (await get<{ transferId: string }>('/admin/transfers?stage=REQUESTED')).data.map((t) => t.transferId),
    ).toEqual(['t-list']);
    expect((await get<unknown>('/admin/transfers?stage=SHIPPED')).data).toEqual([]);

    const products = await all<{ sku: string }>('/admin/products', 1);
    expect(products.map((p) => p.sku)).toEqual([...products.map((p) => p.sku)].sort());
    expect(products.map((p) => p.sku)).toEqual(expect.arrayContaining(['LIST-A', 'LIST-B']));
    expect((await all<{ code: string }>('/admin/warehouses', 2)).map((w) => w.code)).toEqual(
      expect.arrayContaining(['WL1', 'WL2']),
    );
    const levels = await all<{ sku: string; warehouseCode: string; available: number }>('/admin/levels?sku=LIST-A', 1);
    expect(levels).toEqual([expect.objectContaining({ sku: 'LIST-A', warehouseCode: 'WL1', available: 3 })]);

    const campaign = await app.inject({
      method: 'POST',
      url: '/admin/campaigns',
      payload: {
        id: 'list-fs',
        sku: 'LIST-B',
        warehouseCode: 'WL2',
        startsAt: new Date().toISOString(),
        endsAt: new Date(Date.now() + 3_600_000).toISOString(),
        quota: 2,
        perUserLimit: 1,
      },
    });
    expect(campaign.statusCode).toBe(201);
    expect((await get<{ id: string; remaining: number }>('/admin/campaigns?sku=LIST-B')).data).toEqual([
      expect.objectContaining({ id: 'list-fs', remaining: 2 }),
    ]);

    // GET /alerts pages too, and keeps `alerts` for the clients that read it.
    const alerts = await app.inject({ method: 'GET', url: '/alerts?limit=1' });
    expect(alerts.json()).toEqual({ data: [], alerts: [], hasMore: false, nextCursor: null });
  });
});

describe('order edit (POST /orders/:id/edit)', () => {
  const place = (orderId: string, quantity: number, amountCents?: number, sku = 'EDIT') =>
    app.inject({
      method: 'POST',
      url: '/orders',
      payload: {
        orderId,
        userId: 'u-edit',
        lines: [{ sku, warehouseCode: 'W1', quantity }],
        ...(amountCents ? { amountCents } : {}),
      },
    });
  const edit = (orderId: string, body: object) =>
    app.inject({ method: 'POST', url: `/orders/${orderId}/edit`, payload: body });
  const line = (quantity: number, sku = 'EDIT') => [{ sku, warehouseCode: 'W1', quantity }];
  const editRows = (orderId: string) =>
    db.stockMovement.findMany({ where: { reference: orderId, reason: { endsWith: ':EDIT' } } });

  it('+2 with 1 available → 409 and nothing changed; −3 → exactly 3 released; the saga learns the lines', async () => {
    await stock(db, 'EDIT', 'W1', 5);
    expect((await place('e-1', 4)).statusCode).toBe(201);
    const short = await edit('e-1', { editId: 'ed-1', lines: line(6) });
    expect([short.statusCode, short.json()]).toEqual([
      409,
      {
        code: 'INSUFFICIENT_STOCK',
        message: expect.any(String),
        details: { shortages: [{ sku: 'EDIT', warehouseCode: 'W1', requested: 2, available: 1 }] },
      },
    ]);
    expect(await level(db, 'EDIT', 'W1')).toEqual({ onHand: 5, reserved: 4 });
    expect(await db.reservationLine.findMany({ where: { reservationId: 'e-1' }, select: { quantity: true } })).toEqual([
      { quantity: 4 },
    ]);
    expect(await editRows('e-1')).toEqual([]);

    const less = await edit('e-1', { editId: 'ed-2', lines: line(1), expectedVersion: 0 });
    expect([less.statusCode, less.json()]).toEqual([
      200,
      {
        orderId: 'e-1',
        editId: 'ed-2',
        version: 1,
        lines: line(1),
        amountCents: null,
        moved: [{ sku: 'EDIT', warehouseCode: 'W1', delta: -3 }],
        replayed: false,
      },
    ]);
    expect(await level(db, 'EDIT', 'W1')).toEqual({ onHand: 5, reserved: 1 });
    expect((await editRows('e-1')).map((m) => [m.reason, m.reservedDelta, m.actor])).toEqual([
      ['RELEASE:EDIT', -3, 'bootstrap'],
    ]);
    // The saga learns the new lines (its status query answers GET /orders/:id).
    await eventually(
      async () => (await app.inject({ method: 'GET', url: '/orders/e-1' })).json(),
      (o: { source: string; lines: { quantity: number }[] }) =>
        o.source === 'saga' && o.lines.length === 1 && o.lines[0]!.quantity === 1,
    );
    // A retry answers the first outcome; the editId with another body is refused.
    expect((await edit('e-1', { editId: 'ed-2', lines: line(1), expectedVersion: 0 })).json()).toMatchObject({
      version: 1,
      replayed: true,
    });
    expect((await edit('e-1', { editId: 'ed-2', lines: line(2), expectedVersion: 0 })).json().code).toBe(
      'IDEMPOTENCY_CONFLICT',
    );
    expect(await invariantViolations(db)).toEqual([]);
  });

  it('a price-only edit writes no ledger row; a stale version, an unknown SKU and a campaign order are refused', async () => {
    const price = await edit('e-1', { editId: 'ed-3', lines: line(1), amountCents: 1234, expectedVersion: 1 });
    expect([price.statusCode, price.json()]).toEqual([
      200,
      expect.objectContaining({ version: 2, amountCents: 1234, moved: [] }),
    ]);
    expect(await editRows('e-1')).toHaveLength(1);
    const stale = await edit('e-1', { editId: 'ed-4', lines: line(2), expectedVersion: 1 });
    expect([stale.statusCode, stale.json().code, stale.json().details]).toEqual([
      409,
      'STALE_VERSION',
      { expected: 1, actual: 2 },
    ]);
    expect(await level(db, 'EDIT', 'W1')).toEqual({ onHand: 5, reserved: 1 });
    const unknown = await edit('e-1', { editId: 'ed-5', lines: [{ sku: 'NOPE', warehouseCode: 'W1', quantity: 1 }] });
    expect([unknown.statusCode, unknown.json().code]).toEqual([404, 'UNKNOWN_PRODUCT']);
    // A campaign order (its units come from the campaign's pool) is not edited.
    await openFlashSale(db, 'edit-fs', 'EDIT', 'W1', 1, 1);
    await db.reservation.update({ where: { id: 'e-1' }, data: { campaignId: 'edit-fs' } });
    const campaign = await edit('e-1', { editId: 'ed-7', lines: line(1), amountCents: 1 });
    expect([campaign.statusCode, campaign.json().code]).toEqual([409, 'NOT_EDITABLE']);
    await db.reservation.update({ where: { id: 'e-1' }, data: { campaignId: null } });
    const none = await edit('missing', { editId: 'ed-6', lines: line(1) });
    expect([none.statusCode, none.json().code]).toEqual([404, 'ORDER_NOT_FOUND']);
  });

  it('an edit racing a payment: the serial lock orders them, one wins cleanly', async () => {
    await stock(db, 'EDIT-R', 'W1', 5);
    expect((await place('e-race', 1, 990, 'EDIT-R')).statusCode).toBe(201);
    const blocker = await blockSerial('e-race');
    const signed = signedPayment('test-webhook-secret', {
      eventId: 'ev-race',
      type: 'payment.succeeded',
      orderId: 'e-race',
      paymentId: 'pay-race',
      amountCents: 990,
    });
    const paying = app.inject({
      method: 'POST',
      url: '/webhooks/payments',
      payload: signed.payload,
      headers: signed.headers,
    });
    await blocker.waiters(1);
    // The payment's transaction waits for the order's lock: nothing of it is stored yet.
    expect(await db.payment.count({ where: { orderId: 'e-race' } })).toBe(0);
    const editing = edit('e-race', { editId: 'ed-race', lines: line(2, 'EDIT-R'), amountCents: 1980 });
    await blocker.waiters(2);
    await blocker.release();
    const [paid, edited] = await Promise.all([paying, editing]);
    expect(paid.statusCode).toBe(200);
    const held = await db.reservation.findUnique({ where: { id: 'e-race' }, include: { lines: true } });
    if (edited.statusCode === 200) {
      // The edit committed first: the payment (for the old amount) came after it.
      expect(held).toMatchObject({ amountCents: 1980, version: 1, lines: [expect.objectContaining({ quantity: 2 })] });
    } else {
      // The payment committed first: the edit was refused, nothing of it applied.
      expect([edited.statusCode, edited.json().code]).toEqual([409, 'NOT_EDITABLE']);
      expect(held).toMatchObject({ amountCents: 990, version: 0, lines: [expect.objectContaining({ quantity: 1 })] });
      expect(await editRows('e-race')).toEqual([]);
    }
    // After the payment, no edit goes through.
    const late = await edit('e-race', { editId: 'ed-late', lines: line(3, 'EDIT-R') });
    expect([late.statusCode, late.json().code]).toEqual([409, 'NOT_EDITABLE']);
    expect(await invariantViolations(db)).toEqual([]);
  });
});
