/**
 * The HTTP contract through inject(), on a real Temporal dev server, worker, PostgreSQL and
 * Redis: every error code, the webhook's signature and idempotency, duplicate orders.
 * Every refused request must leave the stock exactly as it was.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../data/db';
import { eventually, signedPayment, useAppStack } from '../helpers/app';
import { invariantViolations, level, stock } from '../helpers/db';

const TASK_QUEUE = 'api-test';
const SECRET = 'test-webhook-secret';
const ADMIN = { authorization: 'Bearer test-admin-token' };

const stack = useAppStack('dev', TASK_QUEUE, { RESERVATION_TTL_SECONDS: '600' });
let db: Db;
let app: FastifyInstance;

beforeAll(async () => {
  ({ db, app } = stack);
  await stock(db, 'APPLE', 'W1', 10);
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const placeBody = (orderId: string, quantity = 1, sku = 'APPLE') => ({
  orderId,
  userId: 'u1',
  lines: [{ sku, warehouseCode: 'W1', quantity }],
});
const place = (body: unknown) => app.inject({ method: 'POST', url: '/orders', payload: body as object });
const getOrder = (id: string) => app.inject({ method: 'GET', url: `/orders/${id}` });
const untilStatus = (id: string, status: string) =>
  eventually(
    async () => (await getOrder(id)).json().status,
    (s) => s === status,
  );
const paymentEvent = (orderId: string, n: string) => ({
  eventId: `ev-${n}`,
  type: 'payment.succeeded',
  orderId,
  paymentId: `pay-${n}`,
  amountCents: 990,
});
const webhook = (signed: ReturnType<typeof signedPayment>) =>
  app.inject({ method: 'POST', url: '/webhooks/payments', payload: signed.payload, headers: signed.headers });

describe('POST /orders', () => {
  it('201 with the reservation; the same order again → the same answer and no second hold', async () => {
    const first = await place(placeBody('o-dup', 2));
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({
      orderId: 'o-dup',
      status: 'RESERVED',
      lines: [{ sku: 'APPLE', warehouseCode: 'W1', quantity: 2 }],
    });
    const again = await Promise.all([place(placeBody('o-dup', 2)), place(placeBody('o-dup', 2))]);
    for (const a of again) {
      expect(a.statusCode).toBe(201);
      expect(a.json()).toEqual(first.json());
    }
    expect(await level(db, 'APPLE', 'W1')).toEqual({ onHand: 10, reserved: 2 });
  });

  it('409 ORDER_CONFLICT when an order id is reused with other lines', async () => {
    const res = await place(placeBody('o-dup', 3));
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('ORDER_CONFLICT');
    expect(await level(db, 'APPLE', 'W1')).toEqual({ onHand: 10, reserved: 2 });
  });

  it('409 INSUFFICIENT_STOCK with what was short, and nothing held', async () => {
    const res = await place(placeBody('o-big', 50));
    expect(res.statusCode).toBe(409);
    expect(res.json()).toEqual({
      code: 'INSUFFICIENT_STOCK',
      message: expect.any(String),
      details: { shortages: [{ sku: 'APPLE', warehouseCode: 'W1', requested: 50, available: 8 }] },
    });
    // Asked again after the saga ended: the same answer, from history.
    await untilStatus('o-big', 'REJECTED');
    expect((await place(placeBody('o-big', 50))).json()).toEqual(res.json());
    expect(await level(db, 'APPLE', 'W1')).toEqual({ onHand: 10, reserved: 2 });
  });

  it.each([
    ['no lines', { orderId: 'bad1', userId: 'u1', lines: [] }],
    ['zero quantity', placeBody('bad2', 0)],
    ['fractional quantity', placeBody('bad3', 1.5)],
    ['id with a colon', placeBody('bad:4', 1)],
    ['unknown field', { ...placeBody('bad5', 1), coupon: 'FREE' }],
    ['not an object', [1, 2]],
  ])('400 VALIDATION_FAILED for %s, and no order is created', async (_name, body) => {
    const res = await place(body);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('VALIDATION_FAILED');
    expect(await level(db, 'APPLE', 'W1')).toEqual({ onHand: 10, reserved: 2 });
  });

  it('400 for a body that is not JSON', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/orders',
      payload: '{"orderId":',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('VALIDATION_FAILED');
  });
});

describe('GET /orders/:id and cancel', () => {
  it('shows the saga state; 404 ORDER_NOT_FOUND for an unknown id; 400 for a malformed one', async () => {
    const res = await getOrder('o-dup');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      orderId: 'o-dup',
      status: 'AWAITING_PAYMENT',
      source: 'saga',
      expiresAt: expect.any(String),
    });
    expect((await getOrder('nope')).json()).toMatchObject({ code: 'ORDER_NOT_FOUND' });
    expect((await getOrder('nope')).statusCode).toBe(404);
    expect((await getOrder('b@d')).statusCode).toBe(400);
  });

  it('cancel → 202 and the hold is released; a retried cancel gets the first answer', async () => {
    await place(placeBody('o-cancel', 3));
    expect(await level(db, 'APPLE', 'W1')).toEqual({ onHand: 10, reserved: 5 });
    const res = await app.inject({ method: 'POST', url: '/orders/o-cancel/cancel' });
    expect(res.statusCode).toBe(202);
    await untilStatus('o-cancel', 'RELEASED');
    expect(await level(db, 'APPLE', 'W1')).toEqual({ onHand: 10, reserved: 2 });
    // The retry of a cancel whose answer was lost: the first answer, nothing else happens.
    const again = await app.inject({ method: 'POST', url: '/orders/o-cancel/cancel', payload: { reason: 'again' } });
    expect([again.statusCode, again.json()]).toEqual([202, res.json()]);
    expect(
      await db.operationFence.findUnique({ where: { serial_operation: { serial: 'o-cancel', operation: 'CANCEL' } } }),
    ).toMatchObject({
      outcome: expect.objectContaining({ status: 'CANCELLING', reason: 'cancelled by request' }),
    });
    expect((await getOrder('o-cancel')).json()).toMatchObject({ status: 'RELEASED', releaseReason: 'CANCELLED' });
    expect((await getOrder('o-cancel')).json()).not.toHaveProperty('cancelIgnored');
    expect((await app.inject({ method: 'POST', url: '/orders/nope/cancel' })).statusCode).toBe(404);
  });
});

describe('POST /webhooks/payments', () => {
  it('401 INVALID_SIGNATURE for a bad signature, a stale timestamp or none; nothing changes', async () => {
    const good = signedPayment(SECRET, paymentEvent('o-dup', 'sig'));
    const forged = signedPayment('wrong-secret', paymentEvent('o-dup', 'sig'));
    const stale = signedPayment(SECRET, paymentEvent('o-dup', 'sig'), Math.floor(Date.now() / 1000) - 3600);
    const tampered = { ...good, payload: good.payload.replace('990', '1') };
    for (const req of [
      forged,
      stale,
      tampered,
      { payload: good.payload, headers: { 'content-type': 'application/json' } },
    ]) {
      const res = await webhook(req as ReturnType<typeof signedPayment>);
      expect(res.statusCode).toBe(401);
      expect(res.json().code).toBe('INVALID_SIGNATURE');
    }
    expect(await db.paymentEvent.count()).toBe(0);
    expect((await getOrder('o-dup')).json().status).toBe('AWAITING_PAYMENT');
  });

  it('a signed payment for an unknown order is kept: 200 ACCEPTED, stored PENDING until its grace ends', async () => {
    const res = await webhook(signedPayment(SECRET, paymentEvent('ghost', 'ghost')));
    expect([res.statusCode, res.json()]).toEqual([200, { eventId: 'ev-ghost', orderId: 'ghost', result: 'ACCEPTED' }]);
    expect(
      await db.payment.findMany({ where: { orderId: 'ghost' }, select: { paymentId: true, state: true } }),
    ).toEqual([{ paymentId: 'pay-ghost', state: 'PENDING' }]);
    expect(await db.paymentDelivery.count({ where: { orderId: 'ghost' } })).toBe(1);
  });

  it('400 for a signed but malformed event', async () => {
    const res = await webhook(signedPayment(SECRET, { ...paymentEvent('o-dup', 'bad'), amountCents: -5 }));
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('VALIDATION_FAILED');
  });

  it('confirms once; the same event redelivered gets the same 200; reused id with other content → 409', async () => {
    const event = signedPayment(SECRET, paymentEvent('o-dup', 'paid'));
    const first = await webhook(event);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ eventId: 'ev-paid', orderId: 'o-dup', result: 'ACCEPTED' });
    const again = await Promise.all(
      [1, 2, 3, 4].map(() => webhook(signedPayment(SECRET, paymentEvent('o-dup', 'paid')))),
    );
    for (const a of again)
      expect({ status: a.statusCode, body: a.json() }).toEqual({ status: 200, body: first.json() });
    await untilStatus('o-dup', 'CONFIRMED');
    expect(await level(db, 'APPLE', 'W1')).toEqual({ onHand: 8, reserved: 0 });
    expect(await db.stockMovement.count({ where: { reason: 'CONFIRM', reference: 'o-dup' } })).toBe(1);

    const conflict = await webhook(signedPayment(SECRET, { ...paymentEvent('o-dup', 'paid'), amountCents: 1 }));
    expect(conflict.statusCode).toBe(409);
    expect(conflict.json().code).toBe('IDEMPOTENCY_CONFLICT');
  });
});

describe('inventory and admin', () => {
  it('GET /inventory/:sku per warehouse and total; 404 SKU_NOT_FOUND', async () => {
    // The cache is guaranteed current once the relay has applied the confirmation.
    await eventually(
      () => db.cacheOutbox.count(),
      (n) => n === 0,
    );
    const res = await app.inject({ method: 'GET', url: '/inventory/APPLE' });
    expect(res.json()).toEqual({
      sku: 'APPLE',
      name: 'APPLE',
      lotTracked: false,
      warehouses: [
        {
          warehouseCode: 'W1',
          onHand: 8,
          reserved: 0,
          safetyStock: 0,
          damaged: 0,
          qualityControl: 0,
          unsellable: 0,
          incoming: 0,
          available: 8,
          lots: [],
        },
      ],
      total: {
        onHand: 8,
        reserved: 0,
        safetyStock: 0,
        damaged: 0,
        qualityControl: 0,
        unsellable: 0,
        incoming: 0,
        available: 8,
      },
    });
    const missing = await app.inject({ method: 'GET', url: '/inventory/NOPE' });
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'SKU_NOT_FOUND']);
  });

  it('admin routes need the bearer token', async () => {
    for (const headers of [{ authorization: undefined }, { authorization: 'Bearer nope' }]) {
      const res = await app.inject({ method: 'PUT', url: '/admin/products/PEAR', payload: { name: 'Pear' }, headers });
      expect([res.statusCode, res.json().code]).toEqual([401, 'UNAUTHORIZED']);
    }
    expect(await db.product.count({ where: { sku: 'PEAR' } })).toBe(0);
  });

  it('creates products and warehouses, receives stock once per key', async () => {
    expect(
      (await app.inject({ method: 'PUT', url: '/admin/products/PEAR', payload: { name: 'Pear' }, headers: ADMIN }))
        .statusCode,
    ).toBe(200);
    expect(
      (await app.inject({ method: 'PUT', url: '/admin/warehouses/W2', payload: { name: 'Two' }, headers: ADMIN }))
        .statusCode,
    ).toBe(200);
    const receipt = { sku: 'PEAR', warehouseCode: 'W2', quantity: 7, reason: 'purchase-order-17' };
    const post = (body: object, key = 'rcpt-1') =>
      app.inject({
        method: 'POST',
        url: '/admin/receipts',
        payload: body,
        headers: { ...ADMIN, 'idempotency-key': key },
      });
    const first = await post(receipt);
    expect([first.statusCode, first.json()]).toEqual([201, { ...receipt, onHand: 7, reserved: 0, replayed: false }]);
    expect((await post(receipt)).json()).toMatchObject({ onHand: 7, replayed: true });
    expect(await level(db, 'PEAR', 'W2')).toEqual({ onHand: 7, reserved: 0 });

    const reused = await post({ ...receipt, quantity: 8 });
    expect([reused.statusCode, reused.json().code]).toEqual([409, 'IDEMPOTENCY_CONFLICT']);
    const unknown = await post({ ...receipt, sku: 'KIWI' }, 'rcpt-2');
    expect([unknown.statusCode, unknown.json().code]).toEqual([404, 'UNKNOWN_PRODUCT']);
    const noWarehouse = await post({ ...receipt, warehouseCode: 'W9' }, 'rcpt-3');
    expect([noWarehouse.statusCode, noWarehouse.json().code]).toEqual([404, 'UNKNOWN_WAREHOUSE']);
    const noKey = await app.inject({ method: 'POST', url: '/admin/receipts', payload: receipt, headers: ADMIN });
    expect([noKey.statusCode, noKey.json().code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(await level(db, 'PEAR', 'W2')).toEqual({ onHand: 7, reserved: 0 });
  });
});

describe('operations', () => {
  it('healthz, readyz, metrics, docs and a JSON 404 for unknown routes', async () => {
    expect((await app.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).json()).toEqual({
      status: 'ready',
      checks: { postgres: 'ok', redis: 'ok', temporal: 'ok' },
    });
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/stockhold_orders_total\{outcome="reserved",process="api"\} \d+/);
    expect(metrics).toMatch(/stockhold_webhook_deliveries_total\{result="bad_signature",process="api"\} 4/);
    const spec = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/orders',
        '/orders/{orderId}',
        '/webhooks/payments',
        '/inventory/{sku}',
        '/admin/receipts',
      ]),
    );
    const missing = await app.inject({ method: 'GET', url: '/nowhere' });
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'NOT_FOUND']);
  });
});
