/**
 * Pre-sales on MariaDB (issue 22) through the real API (inject) and the real worker on the dev
 * server, mirroring test/api/pre-sale.test.ts: pre-orders against stock not yet received, never
 * more than the quota, paid ones waiting as backorders, the goods allocated first-paid-first-
 * served out of the pre-sale's goods only (ordinary stock of the SKU stays on sale), the
 * shortfall ending REFUND_REQUIRED, a pre-order paid after the fulfilment settled on the spot,
 * the fulfilment once per campaign; reconciliation clean after each.
 */
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'mariadb';
import type { Db } from '../../data/db';
import { findDriftsOnMariadb, mariadbDrifts } from '../../data/mariadb/reconcile';
import { upsertProduct } from '../../data/stock/catalog';
import { receiveStock } from '../../data/stock/stock-admin';
import { eventually, signedPayment, useAppStack } from '../helpers/app';
import { describeMariadb, levelOf, mariadbPool, seedLevel } from '../helpers/mariadb';

const TASK_QUEUE = 'mariadb-pre-sales-test';
const ADMIN = { authorization: 'Bearer test-admin-token' };
const SECRET = 'test-webhook-secret';

describeMariadb('pre-sales on MariaDB', () => {
  const stack = useAppStack('dev', TASK_QUEUE, {}, undefined, 'mariadb');
  let app: FastifyInstance;
  let db: Db;
  let owner: Pool;

  beforeAll(async () => {
    ({ app, db } = stack);
    await app.deps.redis.flushdb();
    owner = mariadbPool(4);
    await seedLevel(owner, 'OTHER', 'W1', 1); // creates the warehouse; the pre-sale SKUs have no stock at all
    await upsertProduct(db, 'NEW-MANGO', 'New-season mangoes');
  });
  afterAll(async () => {
    await owner?.end();
  });
  afterEach(async () => {
    expect(await mariadbDrifts(owner)).toEqual([]);
    expect((await findDriftsOnMariadb(owner)).drifts).toEqual([]);
  });

  const expectedAt = new Date(Date.now() + 14 * 24 * 3600_000).toISOString();
  const order = (campaign: string, orderId: string, userId: string) =>
    app.inject({ method: 'POST', url: `/campaigns/${campaign}/orders`, payload: { orderId, userId, quantity: 1 } });
  const pay = (orderId: string, eventId = `ev-${orderId}`) => {
    const signed = signedPayment(SECRET, {
      eventId,
      type: 'payment.succeeded',
      orderId,
      paymentId: `pay-${orderId}`,
      amountCents: 1500,
    });
    return app.inject({ method: 'POST', url: '/webhooks/payments', payload: signed.payload, headers: signed.headers });
  };
  const status = async (orderId: string) => (await app.inject({ method: 'GET', url: `/orders/${orderId}` })).json();
  const until = (orderId: string, wanted: string) =>
    eventually(
      () => status(orderId),
      (s) => s.status === wanted,
    );
  const fulfil = (id: string, key: string, quantity: number) =>
    app.inject({
      method: 'POST',
      url: `/admin/campaigns/${id}/fulfil`,
      headers: { ...ADMIN, 'idempotency-key': key },
      payload: { quantity },
    });
  const paymentStates = async (orderIds: string[]) =>
    (
      await owner.query<{ order_id: string; state: string }[]>(
        'SELECT order_id, state FROM payments WHERE order_id IN (?) ORDER BY order_id',
        [orderIds],
      )
    ).map((p) => [p.order_id, p.state]);
  /** A pre-sale of `sku` in W1, open since a second ago for an hour, one unit per shopper. */
  const createPreSale = async (id: string, sku: string, quota: number) => {
    const created = await app.inject({
      method: 'POST',
      url: '/admin/campaigns',
      headers: ADMIN,
      payload: {
        id,
        kind: 'PRE_SALE',
        expectedAt,
        sku,
        warehouseCode: 'W1',
        startsAt: new Date(Date.now() - 1000).toISOString(),
        endsAt: new Date(Date.now() + 3600_000).toISOString(),
        quota,
        perUserLimit: 1,
      },
    });
    expect([created.statusCode, created.json()]).toEqual([201, expect.anything()]);
  };

  it('sells stock not yet received, up to the quota, allocates first-paid-first-served, refunds the shortfall', async () => {
    await createPreSale('mango', 'NEW-MANGO', 4);
    expect(await levelOf(owner, 'NEW-MANGO', 'W1')).toEqual({ onHand: 0, reserved: 0 });

    // Twelve shoppers at once on a quota of 4: exactly four pre-orders.
    const placed = await Promise.all(
      ['p1', 'p2', 'p3', 'p4', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8'].map((id) =>
        order('mango', id, `user-${id}`),
      ),
    );
    const won = placed.flatMap((r, i) => (r.statusCode === 201 ? [i] : []));
    expect(won).toHaveLength(4);
    expect(placed.filter((r) => r.statusCode === 409)).toHaveLength(8);
    expect(placed[won[0]].json().expectedShipDate).toBe(expectedAt);
    const ids = won.map((i) => ['p1', 'p2', 'p3', 'p4', 'x1', 'x2', 'x3', 'x4', 'x5', 'x6', 'x7', 'x8'][i]);
    const [a, b, c, d] = ids;

    // Pay in a known order: c first, then a, then d; b never pays (yet).
    for (const id of [c, a, d]) {
      expect((await pay(id)).statusCode).toBe(200);
      await until(id, 'BACKORDERED');
    }
    expect(await status(a)).toMatchObject({ status: 'BACKORDERED', expectedShipDate: expectedAt });
    expect(await levelOf(owner, 'NEW-MANGO', 'W1')).toEqual({ onHand: 0, reserved: 0 });

    // Only 2 units arrive: the two earliest payments get them, the third is refunded.
    const first = await fulfil('mango', 'grn-1', 2);
    expect(first.json()).toEqual({ idempotencyKey: 'grn-1', received: 2, allocated: [c, a], refundRequired: [d] });
    await until(c, 'CONFIRMED');
    await until(a, 'CONFIRMED');
    expect(await until(d, 'REFUND_REQUIRED')).toMatchObject({
      refundReason: expect.stringContaining('could not cover'),
    });
    expect(await levelOf(owner, 'NEW-MANGO', 'W1')).toEqual({ onHand: 0, reserved: 0 });

    // Fulfilment is once: the same key answers the same; another key is refused.
    expect((await fulfil('mango', 'grn-1', 2)).json()).toEqual(first.json());
    const other = await fulfil('mango', 'grn-2', 5);
    expect([other.statusCode, other.json().code]).toEqual([409, 'IDEMPOTENCY_CONFLICT']);

    // b pays after the goods were allocated: nothing left, so it is refunded at once.
    await pay(b);
    await until(b, 'REFUND_REQUIRED');
    const view = (await app.inject({ method: 'GET', url: '/admin/campaigns/mango', headers: ADMIN })).json();
    expect(view).toMatchObject({ kind: 'PRE_SALE', status: 'FULFILLED', sold: 2, backordered: 0, refundRequired: 2 });
    expect((await order('mango', 'p6', 'late-user')).json().code).toBe('ENDED');
    expect(await paymentStates([a, b, c, d])).toEqual(
      [
        [a, 'CONFIRMED'],
        [b, 'REFUND_REQUIRED'],
        [c, 'CONFIRMED'],
        [d, 'REFUND_REQUIRED'],
      ].sort((x, y) => (x[0] < y[0] ? -1 : 1)),
    );

    // Ordinary stock arrives later; the refunded pre-order's payment reported again under a new
    // event id stays refunded: it is never confirmed from that stock.
    await receiveStock(db, {
      idempotencyKey: 'mango-in',
      sku: 'NEW-MANGO',
      warehouseCode: 'W1',
      quantity: 5,
      reason: 'in',
    });
    expect((await pay(d, `ev-${d}-again`)).json()).toMatchObject({ result: 'SETTLED' });
    expect(await levelOf(owner, 'NEW-MANGO', 'W1')).toEqual({ onHand: 5, reserved: 0 });
    expect(await paymentStates([d])).toEqual([[d, 'REFUND_REQUIRED']]);
    const [{ n }] = await owner.query<{ n: bigint }[]>(
      "SELECT COUNT(*) AS n FROM stock_movements WHERE reason = 'CONFIRM' AND reference = ?",
      [d],
    );
    expect(Number(n)).toBe(0);
  });

  it('allocates only the goods received for the pre-sale, never ordinary stock of the same SKU', async () => {
    await upsertProduct(db, 'PEACH', 'Peach');
    await receiveStock(db, {
      idempotencyKey: 'peach-in',
      sku: 'PEACH',
      warehouseCode: 'W1',
      quantity: 4,
      reason: 'in',
    });
    await createPreSale('peach', 'PEACH', 6);
    for (const id of ['q1', 'q2', 'q3', 'q4', 'q5', 'q6']) {
      expect((await order('peach', id, `user-${id}`)).statusCode).toBe(201);
      if (id === 'q6') continue; // pays after the goods arrived
      expect((await pay(id)).statusCode).toBe(200);
      await until(id, 'BACKORDERED');
    }

    // 3 units arrive for 5 backorders: 3 allocated, 2 refunded; the 4 ordinary units stay on sale.
    expect((await fulfil('peach', 'grn-peach', 3)).json()).toEqual({
      idempotencyKey: 'grn-peach',
      received: 3,
      allocated: ['q1', 'q2', 'q3'],
      refundRequired: ['q4', 'q5'],
    });
    expect(await levelOf(owner, 'PEACH', 'W1')).toEqual({ onHand: 4, reserved: 0 });
    const [{ sold }] = await owner.query<{ sold: string }[]>(
      "SELECT SUM(on_hand_delta) AS sold FROM stock_movements WHERE sku = 'PEACH' AND reason = 'CONFIRM'",
    );
    expect(Number(sold)).toBe(-3);

    // A pre-order paid after the fulfilment is refused too: the received goods are gone.
    expect((await pay('q6')).statusCode).toBe(200);
    await until('q6', 'REFUND_REQUIRED');
    expect(await levelOf(owner, 'PEACH', 'W1')).toEqual({ onHand: 4, reserved: 0 });
    const available = (await app.inject({ method: 'GET', url: '/inventory/PEACH' })).json();
    expect(available.total.available).toBe(4);
  });

  it('payments racing the fulfilment: exactly the goods received are sold, each order settled once, no deadlock', async () => {
    await upsertProduct(db, 'FIG', 'Fig');
    await createPreSale('fig', 'FIG', 6);
    const ids = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6'];
    for (const id of ids) expect((await order('fig', id, `user-${id}`)).statusCode).toBe(201);
    for (const id of ids.slice(0, 3)) {
      await pay(id);
      await until(id, 'BACKORDERED');
    }
    // Three more pay while the four units are received and allocated.
    const [fulfilled] = await Promise.all([fulfil('fig', 'grn-fig', 4), ...ids.slice(3).map((id) => pay(id))]);
    expect(fulfilled.statusCode).toBe(200);
    const settled = await eventually(
      () => Promise.all(ids.map(async (id) => (await status(id)).status as string)),
      (all) => all.every((st) => st === 'CONFIRMED' || st === 'REFUND_REQUIRED'),
    );
    expect(settled.slice(0, 3)).toEqual(['CONFIRMED', 'CONFIRMED', 'CONFIRMED']);
    expect(settled.filter((st) => st === 'CONFIRMED')).toHaveLength(4);
    expect(await levelOf(owner, 'FIG', 'W1')).toEqual({ onHand: 0, reserved: 0 });
    const states = await paymentStates(ids);
    expect(states.filter(([, st]) => st === 'CONFIRMED')).toHaveLength(4);
    expect(states.filter(([, st]) => st === 'REFUND_REQUIRED')).toHaveLength(2);
  });
});
