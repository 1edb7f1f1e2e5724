/**
 * The order path on MySQL/MariaDB (issue 22), on the real API and worker over the MariaDB test
 * database and a Temporal dev server (no time-skipping server here: holds expire in seconds).
 * Mirrors the PostgreSQL order tests (test/api/request-path.test.ts, test/workflows/sweeper.test.ts):
 * a hold answers 201 and is the level's reserved; a repeat is the first answer and one hold; a
 * refusal is 409 with its shortages; a hot row is never oversold; the order reads back; a cancel
 * releases once; an expiry is released by the saga, an orphan by the sweeper; the relay starts a
 * saga the API never started; every ledger row carries its actor. Each test ends with the store's
 * drifts (ledger vs levels).
 */
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'mariadb';
import type { Db } from '../../data/db';
import { mariadbDrifts } from '../../data/mariadb/reconcile';
import { jsonValue } from '../../data/mariadb/tx';
import { releaseStock } from '../../data/orders/release';
import { findUnstartedSagas, leaseDueSagaStarts } from '../../data/orders/saga-starts';
import { reserveStock } from '../../data/orders/reservations';
import type { SweepResult } from '../../domain/reports';
import type { OrderWorkflowInput } from '../../domain/order-saga';
import { relaySagaStarts } from '../../use-cases/order-sagas';
import { orderWorkflowId } from '../../workflows/ids';
import { cancelSignal } from '../../workflows/messages';
import { eventually, useAppStack } from '../helpers/app';
import { describeMariadb, levelOf, mariadbPool, seedCampaign, seedLevel } from '../helpers/mariadb';

const TASK_QUEUE = 'mariadb-orders-test';

describeMariadb('orders on MariaDB through the API and the worker', () => {
  const stack = useAppStack(
    'dev',
    TASK_QUEUE,
    { HOLD_SECONDS_MIN: '1', ORDER_RATE_LIMIT_PER_MINUTE: '100000' },
    undefined,
    'mariadb',
  );
  let app: FastifyInstance;
  let db: Db;
  let owner: Pool;
  beforeAll(() => {
    ({ app, db } = stack);
    owner = mariadbPool(4);
  });
  afterAll(async () => {
    await owner?.end();
  });
  afterEach(async () => {
    expect(await mariadbDrifts(owner)).toEqual([]);
  });

  const order = (orderId: string, sku: string, quantity = 1, extra: Record<string, unknown> = {}) =>
    app.inject({
      method: 'POST',
      url: '/orders',
      payload: { orderId, userId: `u-${orderId}`, lines: [{ sku, warehouseCode: 'W1', quantity }], ...extra },
    });
  const hold = async (id: string) =>
    (
      await owner.query<{ status: string; release_reason: string | null }[]>(
        'SELECT status, release_reason FROM reservations WHERE id = ?',
        [id],
      )
    )[0];
  const ledger = (reference: string) =>
    owner.query<{ reason: string; reserved_delta: number; actor: string | null }[]>(
      'SELECT reason, reserved_delta, actor FROM stock_movements WHERE reference = ? ORDER BY id',
      [reference],
    );
  /** The saga's end, once the API's after-commit start has made it (the start is not awaited by the answer). */
  const sagaEnd = async (orderId: string) => {
    const handle = stack.env.client.workflow.getHandle(orderWorkflowId(orderId));
    await eventually(
      () =>
        handle.describe().then(
          () => true,
          () => false,
        ),
      (started) => started,
    );
    return handle.result();
  };
  const count = async (sql: string, params: unknown[]) =>
    Number((await owner.query<{ n: unknown }[]>(sql, params))[0].n);

  test('a hold is 201 and the level reserved; the same order again is the first answer and one hold; another body is 409 ORDER_CONFLICT', async () => {
    await seedLevel(owner, 'OH', 'W1', 5);
    const held = await order('oh-1', 'OH', 2, { amountCents: 700 });
    expect(held.statusCode).toBe(201);
    expect(held.json()).toMatchObject({ orderId: 'oh-1', status: 'RESERVED', lines: [{ sku: 'OH', quantity: 2 }] });
    expect(await levelOf(owner, 'OH', 'W1')).toEqual({ onHand: 5, reserved: 2 });

    const again = await order('oh-1', 'OH', 2, { amountCents: 700 });
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(held.json());
    expect(await count('SELECT COUNT(*) AS n FROM reservations WHERE order_id = ?', ['oh-1'])).toBe(1);
    expect(await count('SELECT COUNT(*) AS n FROM saga_starts WHERE order_id = ?', ['oh-1'])).toBe(1);
    expect(await levelOf(owner, 'OH', 'W1')).toEqual({ onHand: 5, reserved: 2 });
    expect((await order('oh-1', 'OH', 1)).json()).toMatchObject({ code: 'ORDER_CONFLICT' });

    // The hold's ledger row names the key that placed it (the bootstrap key here).
    expect(await ledger('oh-1')).toEqual([
      expect.objectContaining({ reason: 'RESERVE', reserved_delta: 2, actor: 'bootstrap' }),
    ]);
  });

  test('a refusal is 409 INSUFFICIENT_STOCK with its shortages and holds nothing; an unknown SKU is 404 and records nothing', async () => {
    await seedLevel(owner, 'SH', 'W1', 3);
    const refused = await order('sh-1', 'SH', 4);
    expect(refused.statusCode).toBe(409);
    expect(refused.json()).toMatchObject({
      code: 'INSUFFICIENT_STOCK',
      details: { shortages: [{ sku: 'SH', warehouseCode: 'W1', requested: 4, available: 3 }] },
    });
    // Several lines take the general reserve: all or nothing, each short line named.
    const multi = await app.inject({
      method: 'POST',
      url: '/orders',
      payload: {
        orderId: 'sh-2',
        userId: 'u',
        lines: [
          { sku: 'SH', warehouseCode: 'W1', quantity: 2 },
          { sku: 'OH', warehouseCode: 'W1', quantity: 50 },
        ],
      },
    });
    expect(multi.statusCode).toBe(409);
    expect(multi.json().details.shortages).toEqual([{ sku: 'OH', warehouseCode: 'W1', requested: 50, available: 3 }]);
    expect(await levelOf(owner, 'SH', 'W1')).toEqual({ onHand: 3, reserved: 0 });

    const unknown = await app.inject({
      method: 'POST',
      url: '/orders',
      payload: {
        orderId: 'sh-3',
        userId: 'u',
        lines: [
          { sku: 'SH', warehouseCode: 'W1', quantity: 1 },
          { sku: 'NO-SUCH', warehouseCode: 'W1', quantity: 1 },
        ],
      },
    });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ code: 'UNKNOWN_PRODUCT' });
    expect(await count('SELECT COUNT(*) AS n FROM operation_fences WHERE serial = ?', ['sh-3'])).toBe(0);
    // The refused order reads back from the database: REJECTED, with its shortages.
    const read = await app.inject({ method: 'GET', url: '/orders/sh-1' });
    expect(read.statusCode).toBe(200);
    expect(read.json()).toMatchObject({
      source: 'database',
      status: 'REJECTED',
      shortages: [{ sku: 'SH', requested: 4 }],
    });
  });

  test('lines without a warehouse are placed by allocation, several lines held together with the outbox row', async () => {
    await seedLevel(owner, 'AL', 'W1', 1);
    await seedLevel(owner, 'AL', 'W2', 5);
    await seedLevel(owner, 'AM', 'W1', 2);
    const placed = await app.inject({
      method: 'POST',
      url: '/orders',
      payload: {
        orderId: 'al-1',
        userId: 'u',
        lines: [
          { sku: 'AL', quantity: 3 },
          { sku: 'AM', warehouseCode: 'W1', quantity: 2 },
        ],
        amountCents: 1500,
      },
    });
    expect(placed.statusCode).toBe(201);
    expect(placed.json().lines).toEqual([
      { sku: 'AL', warehouseCode: 'W2', quantity: 3 },
      { sku: 'AM', warehouseCode: 'W1', quantity: 2 },
    ]);
    expect(await levelOf(owner, 'AL', 'W2')).toEqual({ onHand: 5, reserved: 3 });
    expect(await levelOf(owner, 'AM', 'W1')).toEqual({ onHand: 2, reserved: 2 });
    // The hold records what the order costs and where allocation put it (the confirm and GET read them).
    const [row] = await owner.query<{ amount_cents: number; allocation: unknown }[]>(
      'SELECT amount_cents, allocation FROM reservations WHERE id = ?',
      ['al-1'],
    );
    expect(row.amount_cents).toBe(1500);
    expect(jsonValue(row.allocation)).toEqual(placed.json().allocations);
    // The same order id with another body, on the general path: 409, the first hold stands.
    const other = await app.inject({
      method: 'POST',
      url: '/orders',
      payload: {
        orderId: 'al-1',
        userId: 'u',
        lines: [
          { sku: 'AL', quantity: 1 },
          { sku: 'AM', warehouseCode: 'W1', quantity: 2 },
        ],
      },
    });
    expect(other.statusCode).toBe(409);
    expect(other.json()).toMatchObject({ code: 'ORDER_CONFLICT' });
    expect(await levelOf(owner, 'AL', 'W2')).toEqual({ onHand: 5, reserved: 3 });
    const unknownSite = await app.inject({
      method: 'POST',
      url: '/orders',
      payload: {
        orderId: 'al-2',
        userId: 'u',
        lines: [{ sku: 'AL', quantity: 1 }],
        allocation: { preferredWarehouse: 'NOPE' },
      },
    });
    expect(unknownSite.statusCode).toBe(404);
    expect(unknownSite.json()).toMatchObject({ code: 'UNKNOWN_WAREHOUSE' });
    const [outbox] = await owner.query<{ input: unknown }[]>('SELECT input FROM saga_starts WHERE order_id = ?', [
      'al-1',
    ]);
    expect((jsonValue(outbox.input) as OrderWorkflowInput).reservation).toMatchObject({ status: 'reserved' });
  });

  test('an order placed again after its release gets its first answer, as on PostgreSQL (a recorded reserve wins over the release)', async () => {
    await seedLevel(owner, 'RA', 'W1', 5);
    await seedLevel(owner, 'RB', 'W1', 5);
    const place = () =>
      app.inject({
        method: 'POST',
        url: '/orders',
        payload: {
          orderId: 'ra-1',
          userId: 'u',
          lines: [
            { sku: 'RA', warehouseCode: 'W1', quantity: 1 },
            { sku: 'RB', warehouseCode: 'W1', quantity: 2 },
          ],
        },
      });
    const first = await place();
    expect(first.statusCode).toBe(201);
    expect(await releaseStock(db, 'ra-1', 'CANCELLED')).toMatchObject({ status: 'released' });
    const again = await place();
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(first.json());
    expect(await levelOf(owner, 'RB', 'W1')).toEqual({ onHand: 5, reserved: 0 });
  });

  test('many concurrent orders on one hot row: exactly the stock is held, never more', async () => {
    await seedLevel(owner, 'HOT', 'W1', 25);
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => order(`hot-${i}`, 'HOT', 1)));
    const codes = answers.map((a) => a.statusCode);
    expect(codes.filter((c) => c === 201)).toHaveLength(25);
    expect(codes.filter((c) => c === 409)).toHaveLength(35);
    expect(await levelOf(owner, 'HOT', 'W1')).toEqual({ onHand: 25, reserved: 25 });
    expect(await count(`SELECT COUNT(*) AS n FROM reservations WHERE order_id LIKE 'hot-%'`, [])).toBe(25);
  });

  test('GET /orders/:id reads the order; a cancel releases it once, and a second cancel is the first answer', async () => {
    await seedLevel(owner, 'CX', 'W1', 4);
    expect((await order('cx-1', 'CX', 3)).statusCode).toBe(201);
    const read = await eventually(
      () => app.inject({ method: 'GET', url: '/orders/cx-1' }),
      (r) => r.statusCode === 200 && r.json().source === 'saga',
    );
    expect(read.json()).toMatchObject({ orderId: 'cx-1', userId: 'u-cx-1', status: 'AWAITING_PAYMENT', payments: [] });

    const cancel = () =>
      app.inject({ method: 'POST', url: '/orders/cx-1/cancel', payload: { reason: 'changed mind' } });
    const first = await cancel();
    expect(first.statusCode).toBe(202);
    expect(first.json()).toEqual({ orderId: 'cx-1', status: 'CANCELLING' });
    await eventually(
      () => hold('cx-1'),
      (h) => h.status === 'RELEASED',
    );
    expect(await hold('cx-1')).toEqual({ status: 'RELEASED', release_reason: 'CANCELLED' });
    expect(await levelOf(owner, 'CX', 'W1')).toEqual({ onHand: 4, reserved: 0 });
    const second = await cancel();
    expect(second.statusCode).toBe(202);
    expect(second.json()).toEqual(first.json());
    await sagaEnd('cx-1');
    expect((await app.inject({ method: 'GET', url: '/orders/cx-1' })).json()).toMatchObject({
      status: 'RELEASED',
      releaseReason: 'CANCELLED',
    });
    // The saga released it: its ledger row says so.
    expect(await ledger('cx-1')).toEqual([
      expect.objectContaining({ reason: 'RESERVE', reserved_delta: 3, actor: 'bootstrap' }),
      expect.objectContaining({ reason: 'RELEASE', reserved_delta: -3, actor: 'system:order-saga' }),
    ]);
  });

  test("the hold's expiry: the saga releases it", async () => {
    await seedLevel(owner, 'EX', 'W1', 2);
    expect((await order('ex-1', 'EX', 2, { holdSeconds: 1 })).statusCode).toBe(201);
    expect(await levelOf(owner, 'EX', 'W1')).toEqual({ onHand: 2, reserved: 2 });
    const ended = await sagaEnd('ex-1');
    expect(ended).toMatchObject({ status: 'RELEASED', releaseReason: 'EXPIRED' });
    expect(await hold('ex-1')).toEqual({ status: 'RELEASED', release_reason: 'EXPIRED' });
    expect(await levelOf(owner, 'EX', 'W1')).toEqual({ onHand: 2, reserved: 0 });
  });

  test('an expired hold with no saga is released by the sweeper, as system:sweeper', async () => {
    await seedLevel(owner, 'SW', 'W1', 6);
    // The saga's own reserve path: a hold with no outbox row and no workflow (an orphan).
    const orphan = await reserveStock(db, {
      reservationId: 'sw-orphan',
      orderId: 'sw-orphan',
      userId: 'u',
      lines: [{ sku: 'SW', warehouseCode: 'W1', quantity: 4 }],
      expiresAt: new Date(Date.now() - 10 * 60_000).toISOString(),
    });
    expect(orphan).toMatchObject({ status: 'reserved' });
    expect(await levelOf(owner, 'SW', 'W1')).toEqual({ onHand: 6, reserved: 4 });
    const swept = (await stack.env.client.workflow.execute('sweeperWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: 'mariadb-sweep-1',
      args: [60],
    })) as SweepResult;
    expect(swept).toMatchObject({ released: 1, sagasStarted: 0 });
    expect(await hold('sw-orphan')).toEqual({ status: 'RELEASED', release_reason: 'SWEEPER' });
    expect(await levelOf(owner, 'SW', 'W1')).toEqual({ onHand: 6, reserved: 0 });
    expect((await ledger('sw-orphan')).at(-1)).toMatchObject({ reason: 'RELEASE', actor: 'system:sweeper' });
  });

  test("a reserve that waited behind a lot's quarantine sees it: nothing is held on stock that may not be sold", async () => {
    await seedLevel(owner, 'LQ', 'W1', 10);
    await owner.query(`UPDATE products SET lot_tracked = TRUE WHERE sku = 'LQ'`);
    await owner.query(
      `INSERT INTO stock_lots (sku, warehouse_code, lot_code, quantity) VALUES ('LQ', 'W1', 'A', 5), ('LQ', 'W1', 'B', 5)`,
    );
    // A quarantine as the stock path makes it: the level row locked first, the lot, the level bumped.
    const quarantine = await owner.getConnection();
    try {
      await quarantine.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
      await quarantine.beginTransaction();
      await quarantine.query(
        `SELECT on_hand FROM inventory_levels WHERE sku = 'LQ' AND warehouse_code = 'W1' FOR UPDATE`,
      );
      await quarantine.query(`UPDATE stock_lots SET quarantined = TRUE WHERE sku = 'LQ' AND lot_code = 'A'`);
      await quarantine.query(
        `UPDATE inventory_levels SET version = version + 1 WHERE sku = 'LQ' AND warehouse_code = 'W1'`,
      );
      const taking = reserveStock(db, {
        reservationId: 'lq-1',
        orderId: 'lq-1',
        userId: 'u',
        lines: [{ sku: 'LQ', warehouseCode: 'W1', quantity: 8 }],
        expiresAt: new Date(Date.now() + 600_000).toISOString(),
      });
      await new Promise((r) => setTimeout(r, 300));
      await quarantine.commit();
      expect(await taking).toMatchObject({
        status: 'rejected',
        reason: 'INSUFFICIENT_STOCK',
        shortages: [{ sku: 'LQ', requested: 8, available: 5 }],
      });
    } finally {
      await quarantine.release();
    }
    expect(await levelOf(owner, 'LQ', 'W1')).toEqual({ onHand: 10, reserved: 0 });
  });

  test("the sweeper leaves a live saga's hold to it and still releases the orphan behind it", async () => {
    await seedLevel(owner, 'SL', 'W1', 5);
    expect((await order('sl-live', 'SL', 2)).statusCode).toBe(201);
    await eventually(
      () =>
        stack.env.client.workflow
          .getHandle(orderWorkflowId('sl-live'))
          .describe()
          .then(
            () => true,
            () => false,
          ),
      (started) => started,
    );
    await owner.query('UPDATE saga_starts SET started_at = UTC_TIMESTAMP(3) WHERE order_id = ?', ['sl-live']);
    // Past expiry + grace in the database while its saga still runs (its timer is the saga's).
    await owner.query('UPDATE reservations SET expires_at = UTC_TIMESTAMP(3) - INTERVAL 20 MINUTE WHERE id = ?', [
      'sl-live',
    ]);
    await reserveStock(db, {
      reservationId: 'sl-orphan',
      orderId: 'sl-orphan',
      userId: 'u',
      lines: [{ sku: 'SL', warehouseCode: 'W1', quantity: 1 }],
      expiresAt: new Date(Date.now() - 10 * 60_000).toISOString(),
    });
    const swept = (await stack.env.client.workflow.execute('sweeperWorkflow', {
      taskQueue: TASK_QUEUE,
      workflowId: 'mariadb-sweep-2',
      args: [60],
    })) as SweepResult;
    // The live one is reported (an alert, where alerts run on this store; else an item error): never released.
    expect(swept).toMatchObject({ examined: 2, released: 1, sagasStarted: 0 });
    expect(await hold('sl-live')).toEqual({ status: 'RESERVED', release_reason: null });
    expect(await hold('sl-orphan')).toEqual({ status: 'RELEASED', release_reason: 'SWEEPER' });
    expect(await levelOf(owner, 'SL', 'W1')).toEqual({ onHand: 5, reserved: 2 });
  });

  test('the saga relay starts a saga whose start the API never made', async () => {
    await seedLevel(owner, 'RL', 'W1', 3);
    // The request path's batch, committed, and the process gone before it started the saga.
    const order = { orderId: 'rl-1', userId: 'u', lines: [{ sku: 'RL', warehouseCode: 'W1', quantity: 1 }] };
    const expiresAt = new Date(Date.now() + 600_000).toISOString();
    const reserved = {
      status: 'reserved' as const,
      reservationId: 'rl-1',
      lines: order.lines,
      allocations: [],
      expiresAt,
    };
    const result = await app.holds.batcher.hold(
      { kind: 'level', sku: 'RL', warehouseCode: 'W1' },
      {
        serial: 'rl-1',
        orderId: 'rl-1',
        userId: 'u',
        quantity: 1,
        expiresAt,
        reserved,
        saga: { order, ttlSeconds: 600 },
      },
    );
    expect(result).toMatchObject({ replayed: false, outcome: { status: 'reserved' } });
    const outboxRow = () =>
      owner.query<{ started_at: Date | null }[]>('SELECT started_at FROM saga_starts WHERE order_id = ?', ['rl-1']);
    expect((await outboxRow())[0].started_at).toBeNull();
    const handle = stack.env.client.workflow.getHandle(orderWorkflowId('rl-1'));
    await expect(handle.describe()).rejects.toThrow();

    expect(await findUnstartedSagas(db, 0, 10)).toEqual([expect.objectContaining({ orderId: 'rl-1' })]);
    // Two relays at once lease the row once (SKIP LOCKED); a leased row waits out its backoff.
    const lease = () => leaseDueSagaStarts(db, { graceMs: 0, batch: 50 });
    const [a, b] = await Promise.all([lease(), lease()]);
    expect([...a, ...b].map((r) => [r.orderId, r.input.order.orderId])).toEqual([['rl-1', 'rl-1']]);
    expect(await lease()).toEqual([]);
    const relay = () => relaySagaStarts(db, stack.env.client, TASK_QUEUE, { graceMs: 0, intervalMs: 0, batch: 50 });
    await eventually(relay, (n) => n === 1, 5_000);
    expect((await handle.describe()).status.name).toBe('RUNNING');
    expect((await outboxRow())[0].started_at).not.toBeNull();
    // Marked: a second pass leases nothing.
    expect(await relay()).toBe(0);
    expect(await findUnstartedSagas(db, 0, 10)).toEqual([]);
    await handle.signal(cancelSignal, { reason: 'test over' });
    await handle.result();
    expect(await levelOf(owner, 'RL', 'W1')).toEqual({ onHand: 3, reserved: 0 });
  });

  test('GET /orders and GET /admin/holds list the holds, one keyset page at a time', async () => {
    await seedLevel(owner, 'LS', 'W1', 10);
    for (const id of ['ls-1', 'ls-2', 'ls-3']) expect((await order(id, 'LS', 1)).statusCode).toBe(201);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await app.inject({
        method: 'GET',
        url: `/orders?sku=LS&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      });
      expect(page.statusCode).toBe(200);
      const body = page.json() as { data: { orderId: string; lines: unknown[] }[]; nextCursor: string | null };
      seen.push(...body.data.map((o) => o.orderId));
      expect(body.data.every((o) => o.lines.length === 1)).toBe(true);
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['ls-3', 'ls-2', 'ls-1']);
    const holds = await app.inject({ method: 'GET', url: '/admin/holds?sku=LS&pastExpiry=false' });
    expect(holds.statusCode).toBe(200);
    expect(
      holds
        .json()
        .data.map((h: { orderId: string }) => h.orderId)
        .sort(),
    ).toEqual(['ls-1', 'ls-2', 'ls-3']);
    expect(holds.json().data[0]).toMatchObject({
      pastExpiry: false,
      lines: [{ sku: 'LS', warehouseCode: 'W1', quantity: 1 }],
    });
  });

  test("a campaign hold's release goes back to its pool and the user's count", async () => {
    await seedLevel(owner, 'FL', 'W1', 10);
    await seedCampaign(owner, 'fl-sale', 'FL', 'W1', 4, 2);
    const order = {
      orderId: 'fl-1',
      userId: 'shopper',
      lines: [{ sku: 'FL', warehouseCode: 'W1', quantity: 2 }],
      campaignId: 'fl-sale',
    };
    const expiresAt = new Date(Date.now() + 600_000).toISOString();
    const taken = await app.holds.batcher.hold(
      { kind: 'campaign', campaignId: 'fl-sale' },
      {
        serial: 'fl-1',
        orderId: 'fl-1',
        userId: 'shopper',
        quantity: 2,
        expiresAt,
        reserved: { status: 'reserved', reservationId: 'fl-1', lines: order.lines, allocations: [], expiresAt },
        saga: { order, ttlSeconds: 600 },
      },
    );
    expect(taken.outcome).toMatchObject({ status: 'reserved' });
    const pool = async () => {
      const [c] = await owner.query<{ remaining: number }[]>('SELECT remaining FROM campaigns WHERE id = ?', [
        'fl-sale',
      ]);
      const [u] = await owner.query<{ quantity: number }[]>(
        'SELECT quantity FROM campaign_user_counts WHERE campaign_id = ? AND user_id = ?',
        ['fl-sale', 'shopper'],
      );
      return { remaining: c.remaining, userCount: u?.quantity };
    };
    expect(await pool()).toEqual({ remaining: 2, userCount: 2 });
    expect(await releaseStock(db, 'fl-1', 'CANCELLED')).toMatchObject({ status: 'released' });
    expect(await pool()).toEqual({ remaining: 4, userCount: 0 });
    // The quota stays set aside in the level: the release gave it to the pool, not to the level.
    expect(await levelOf(owner, 'FL', 'W1')).toEqual({ onHand: 10, reserved: 4 });
    expect(await releaseStock(db, 'fl-1', 'CANCELLED')).toMatchObject({ status: 'released' });
    expect(await pool()).toEqual({ remaining: 4, userCount: 0 });
  });
});
