/**
 * Pre-sales end to end through the API on the real stack: pre-orders against stock not yet
 * received, paid ones waiting as backorders, goods allocated first-paid-first-served, the
 * shortfall ending REFUND_REQUIRED, and the ship date shown to the shopper.
 */
import type { FastifyInstance } from 'fastify';
import { checkSagaPayments } from '../../activities/saga-check';
import type { Db } from '../../data/db';
import { fulfilPreSale } from '../../data/campaigns/pre-sales';
import { eventually, signedPayment, useAppStack } from '../helpers/app';
import { invariantViolations, level, stock } from '../helpers/db';

const TASK_QUEUE = 'pre-sale-test';
const ADMIN = { authorization: 'Bearer test-admin-token' };
const SECRET = 'test-webhook-secret';
const stack = useAppStack('dev', TASK_QUEUE);
let db: Db;
let app: FastifyInstance;

beforeAll(async () => {
  ({ db, app } = stack);
  await stock(db, 'OTHER', 'W1', 1); // creates the warehouse; the pre-sale SKU has no stock at all
  await db.product.create({ data: { sku: 'NEW-MANGO', name: 'New-season mangoes' } });
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const expectedAt = new Date(Date.now() + 14 * 24 * 3600_000).toISOString();
const preOrder = (orderId: string, userId: string) =>
  app.inject({ method: 'POST', url: '/campaigns/mango/orders', payload: { orderId, userId, quantity: 1 } });
const pay = (orderId: string) => {
  const signed = signedPayment(SECRET, {
    eventId: `ev-${orderId}`,
    type: 'payment.succeeded',
    orderId,
    paymentId: `pay-${orderId}`,
    amountCents: 1500,
  });
  return app.inject({ method: 'POST', url: '/webhooks/payments', payload: signed.payload, headers: signed.headers });
};
const status = async (orderId: string) => (await app.inject({ method: 'GET', url: `/orders/${orderId}` })).json();
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
  expect(created.statusCode).toBe(201);
};

it('sells stock not yet received, up to the quota, allocates first-paid-first-served, refunds the shortfall', async () => {
  await createPreSale('mango', 'NEW-MANGO', 4);
  expect(await level(db, 'NEW-MANGO', 'W1')).toEqual({ onHand: 0, reserved: 0 });

  // Four at once take the quota of 4 (which of five concurrent ones is refused is up to arrival order).
  const placed = await Promise.all(['p1', 'p2', 'p3', 'p4'].map((id) => preOrder(id, `user-${id}`)));
  expect(placed.map((r) => r.statusCode)).toEqual([201, 201, 201, 201]);
  expect((await preOrder('p5', 'user-p5')).statusCode).toBe(409);
  expect(placed[0].json().expectedShipDate).toBe(expectedAt);

  // Pay in a known order: p3 first, then p1, then p4; p2 never pays.
  for (const id of ['p3', 'p1', 'p4']) {
    expect((await pay(id)).statusCode).toBe(200);
    await eventually(
      () => status(id),
      (s) => s.status === 'BACKORDERED',
    );
  }
  expect(await status('p1')).toMatchObject({ status: 'BACKORDERED', expectedShipDate: expectedAt });

  // Only 2 units arrive: the two earliest payments get them, the third is refunded.
  const fulfil = await app.inject({
    method: 'POST',
    url: '/admin/campaigns/mango/fulfil',
    headers: { ...ADMIN, 'idempotency-key': 'grn-1' },
    payload: { quantity: 2 },
  });
  expect(fulfil.json()).toEqual({
    idempotencyKey: 'grn-1',
    received: 2,
    allocated: ['p3', 'p1'],
    refundRequired: ['p4'],
  });
  await eventually(
    () => status('p3'),
    (s) => s.status === 'CONFIRMED',
  );
  await eventually(
    () => status('p1'),
    (s) => s.status === 'CONFIRMED',
  );
  expect(
    await eventually(
      () => status('p4'),
      (s) => s.status === 'REFUND_REQUIRED',
    ),
  ).toMatchObject({ refundReason: expect.stringContaining('could not cover') });
  expect(await level(db, 'NEW-MANGO', 'W1')).toEqual({ onHand: 0, reserved: 0 });

  // Fulfilment is once: the same key answers the same; another key is refused.
  const again = await app.inject({
    method: 'POST',
    url: '/admin/campaigns/mango/fulfil',
    headers: { ...ADMIN, 'idempotency-key': 'grn-1' },
    payload: { quantity: 2 },
  });
  expect(again.json()).toEqual(fulfil.json());
  const other = await app.inject({
    method: 'POST',
    url: '/admin/campaigns/mango/fulfil',
    headers: { ...ADMIN, 'idempotency-key': 'grn-2' },
    payload: { quantity: 5 },
  });
  expect([other.statusCode, other.json().code]).toEqual([409, 'IDEMPOTENCY_CONFLICT']);

  // p2 pays after the goods were allocated: nothing left, so it is refunded at once.
  await pay('p2');
  await eventually(
    () => status('p2'),
    (s) => s.status === 'REFUND_REQUIRED',
  );
  const view = (await app.inject({ method: 'GET', url: '/admin/campaigns/mango', headers: ADMIN })).json();
  expect(view).toMatchObject({ kind: 'PRE_SALE', status: 'FULFILLED', sold: 2, backordered: 0, refundRequired: 2 });
  expect((await preOrder('p6', 'late-user')).json().code).toBe('ENDED');

  // Every payment is settled in PostgreSQL.
  const states = await db.payment.findMany({
    where: { orderId: { in: ['p1', 'p2', 'p3', 'p4'] } },
    orderBy: { orderId: 'asc' },
  });
  expect(states.map((p) => [p.orderId, p.state])).toEqual([
    ['p1', 'CONFIRMED'],
    ['p2', 'REFUND_REQUIRED'],
    ['p3', 'CONFIRMED'],
    ['p4', 'REFUND_REQUIRED'],
  ]);
  // Ordinary stock arrives later; the refunded pre-order's payment reported again under a new
  // event id stays refunded: it is never confirmed from that stock.
  await stock(db, 'NEW-MANGO', 'W1', 5);
  const signed = signedPayment(SECRET, {
    eventId: 'ev-p4-again',
    type: 'payment.succeeded',
    orderId: 'p4',
    paymentId: 'pay-p4',
    amountCents: 1500,
  });
  const again4 = await app.inject({
    method: 'POST',
    url: '/webhooks/payments',
    payload: signed.payload,
    headers: signed.headers,
  });
  expect(again4.json()).toMatchObject({ result: 'SETTLED' });
  expect(await level(db, 'NEW-MANGO', 'W1')).toEqual({ onHand: 5, reserved: 0 });
  expect(
    await db.payment.findUnique({ where: { orderId_paymentId: { orderId: 'p4', paymentId: 'pay-p4' } } }),
  ).toMatchObject({ state: 'REFUND_REQUIRED' });
  expect(await db.stockMovement.count({ where: { reason: 'CONFIRM', reference: { startsWith: 'p4' } } })).toBe(0);
});

it('allocates only the goods received for the pre-sale, never ordinary stock of the same SKU', async () => {
  await stock(db, 'PEACH', 'W1', 4); // ordinary stock, sold to ordinary orders
  await createPreSale('peach', 'PEACH', 6);
  for (const id of ['q1', 'q2', 'q3', 'q4', 'q5', 'q6']) {
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/campaigns/peach/orders',
          payload: { orderId: id, userId: `user-${id}`, quantity: 1 },
        })
      ).statusCode,
    ).toBe(201);
    if (id === 'q6') continue; // pays after the goods arrived
    expect((await pay(id)).statusCode).toBe(200);
    await eventually(
      () => status(id),
      (s) => s.status === 'BACKORDERED',
    );
  }

  // 3 units arrive for 5 backorders: 3 allocated, 2 refunded; the 4 ordinary units stay on sale.
  const fulfil = await app.inject({
    method: 'POST',
    url: '/admin/campaigns/peach/fulfil',
    headers: { ...ADMIN, 'idempotency-key': 'grn-peach' },
    payload: { quantity: 3 },
  });
  expect(fulfil.json()).toEqual({
    idempotencyKey: 'grn-peach',
    received: 3,
    allocated: ['q1', 'q2', 'q3'],
    refundRequired: ['q4', 'q5'],
  });
  expect(await level(db, 'PEACH', 'W1')).toEqual({ onHand: 4, reserved: 0 });
  const confirmed = await db.stockMovement.aggregate({
    where: { sku: 'PEACH', reason: 'CONFIRM' },
    _sum: { onHandDelta: true },
  });
  expect(confirmed._sum.onHandDelta).toBe(-3);

  // A pre-order paid after the fulfilment is refused too: the received goods are gone.
  expect((await pay('q6')).statusCode).toBe(200);
  await eventually(
    () => status('q6'),
    (s) => s.status === 'REFUND_REQUIRED',
  );
  expect(await level(db, 'PEACH', 'W1')).toEqual({ onHand: 4, reserved: 0 });
  const available = (await app.inject({ method: 'GET', url: '/inventory/PEACH' })).json();
  expect(available.total.available).toBe(4);
});

it('reconciliation finds a saga BACKORDERED whose payment PostgreSQL settled (its signal lost), alerts once and tells it', async () => {
  await createPreSale('kiwi', 'NEW-MANGO', 1);
  expect(
    (
      await app.inject({
        method: 'POST',
        url: '/campaigns/kiwi/orders',
        payload: { orderId: 'k1', userId: 'user-k1', quantity: 1 },
      })
    ).statusCode,
  ).toBe(201);
  expect((await pay('k1')).statusCode).toBe(200);
  await eventually(
    () => status('k1'),
    (s) => s.status === 'BACKORDERED',
  );
  const check = () => checkSagaPayments(db, stack.env.client);
  expect(await check()).toEqual([]); // agrees: the goods are still awaited
  // Nothing arrived, and the fulfilment workflow (which tells the saga) never ran.
  await fulfilPreSale(db, 'kiwi', 'grn-kiwi', 0);
  // The saga has not heard yet; GET /orders/:id shows how PostgreSQL settled it.
  expect(await status('k1')).toMatchObject({
    status: 'REFUND_REQUIRED',
    payments: [{ paymentId: 'pay-k1', state: 'REFUND_REQUIRED' }],
  });
  const found = await eventually(check, (m) => m.length > 0);
  expect(found).toEqual([
    { orderId: 'k1', sagaStatus: 'BACKORDERED', paymentId: 'pay-k1', paymentState: 'REFUND_REQUIRED' },
  ]);
  expect(await db.stockAlert.count({ where: { kind: 'SAGA_PAYMENT_MISMATCH', subject: 'k1' } })).toBe(1);
  // Told now, not at its own next check ten minutes on.
  await eventually(
    () => status('k1'),
    (s) => s.status === 'REFUND_REQUIRED',
  );
});
