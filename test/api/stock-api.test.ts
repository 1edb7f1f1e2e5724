/**
 * The stock HTTP contract through inject(), on a real Temporal dev server, worker and
 * PostgreSQL: orders placed by allocation (and GET /orders showing why), the inventory view,
 * and admin changes with idempotency keys and compare-and-set.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../data/db';
import { eventually, signedPayment, useAppStack } from '../helpers/app';
import { invariantViolations, level } from '../helpers/db';

const TASK_QUEUE = 'stock-api-test';
const ADMIN = { authorization: 'Bearer test-admin-token' };

const stack = useAppStack('dev', TASK_QUEUE, { RESERVATION_TTL_SECONDS: '600' });
let db: Db;
let app: FastifyInstance;
beforeAll(() => {
  ({ db, app } = stack);
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const admin = (method: 'PUT' | 'POST', url: string, payload: object, key?: string) =>
  app.inject({ method, url, payload, headers: key ? { ...ADMIN, 'idempotency-key': key } : ADMIN });

describe('admin stock changes', () => {
  it('sets up warehouses with placement and a perishable product, receives lots', async () => {
    expect(
      (
        await admin('PUT', '/admin/warehouses/SH', {
          name: 'Shanghai',
          region: 'east',
          priority: 1,
          latitude: 31.2,
          longitude: 121.5,
        })
      ).json(),
    ).toEqual({
      code: 'SH',
      name: 'Shanghai',
      region: 'east',
      priority: 1,
      latitude: 31.2,
      longitude: 121.5,
    });
    expect(
      (await admin('PUT', '/admin/warehouses/BJ', { name: 'Beijing', region: 'north', priority: 2 })).statusCode,
    ).toBe(200);
    const product = await admin('PUT', '/admin/products/BERRY', {
      name: 'Berries',
      lotTracked: true,
      alertDaysBeforeExpiry: 3,
      removalDaysBeforeExpiry: 1,
    });
    expect(product.json()).toEqual({
      sku: 'BERRY',
      name: 'Berries',
      lotTracked: true,
      alertDaysBeforeExpiry: 3,
      removalDaysBeforeExpiry: 1,
    });
    const expiresAt = new Date(Date.now() + 10 * 86_400_000).toISOString();
    for (const [wh, key] of [
      ['SH', 'r-sh'],
      ['BJ', 'r-bj'],
    ]) {
      const res = await admin(
        'POST',
        '/admin/receipts',
        { sku: 'BERRY', warehouseCode: wh, quantity: 10, reason: 'po-1', lotCode: 'L1', expiresAt },
        key,
      );
      expect([res.statusCode, res.json()]).toEqual([
        201,
        expect.objectContaining({ lotCode: 'L1', onHand: 10, replayed: false }),
      ]);
    }
    const noLot = await admin(
      'POST',
      '/admin/receipts',
      { sku: 'BERRY', warehouseCode: 'SH', quantity: 1, reason: 'po-2' },
      'r-x',
    );
    expect([noLot.statusCode, noLot.json().code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('409 STALE_QUANTITY for a stale expected quantity, and nothing changes', async () => {
    const body = {
      sku: 'BERRY',
      warehouseCode: 'SH',
      lotCode: 'L1',
      delta: -1,
      reasonCode: 'DAMAGE',
      expectedQuantity: 9,
    };
    const stale = await admin('POST', '/admin/adjustments', body, 'adj-1');
    expect([stale.statusCode, stale.json()]).toEqual([
      409,
      { code: 'STALE_QUANTITY', message: expect.any(String), details: { expected: 9, actual: 10 } },
    ]);
    expect(await level(db, 'BERRY', 'SH')).toEqual({ onHand: 10, reserved: 0 });
    const ok = await admin('POST', '/admin/adjustments', { ...body, expectedQuantity: 10 }, 'adj-1');
    expect([ok.statusCode, ok.json()]).toEqual([201, expect.objectContaining({ onHand: 9, replayed: false })]);
    expect(
      (await admin('POST', '/admin/adjustments', { ...body, expectedQuantity: 10 }, 'adj-1')).json(),
    ).toMatchObject({ replayed: true });
    const unknown = await admin('POST', '/admin/adjustments', { ...body, reasonCode: 'THEFT' }, 'adj-2');
    expect([unknown.statusCode, unknown.json().code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it('safety stock and quarantine show in GET /inventory/:sku', async () => {
    const safety = await admin(
      'PUT',
      '/admin/levels/BERRY/BJ/safety-stock',
      { safetyStock: 2, expectedQuantity: 0 },
      'ss-1',
    );
    expect(safety.json()).toEqual({ sku: 'BERRY', warehouseCode: 'BJ', safetyStock: 2, previous: 0, replayed: false });
    const q = await admin(
      'POST',
      '/admin/lots/BERRY/SH/L1/quarantine',
      { reason: 'temperature excursion', expectedQuantity: 9 },
      'q-1',
    );
    expect(q.json()).toMatchObject({ lotCode: 'L1', quarantined: true, quantity: 9 });
    const missing = await admin('POST', '/admin/lots/BERRY/SH/NOPE/quarantine', { reason: 'x' }, 'q-2');
    expect([missing.statusCode, missing.json().code]).toEqual([404, 'LOT_NOT_FOUND']);
    const view = (await app.inject({ method: 'GET', url: '/inventory/BERRY' })).json();
    expect(view.warehouses).toEqual([
      expect.objectContaining({ warehouseCode: 'BJ', onHand: 10, safetyStock: 2, unsellable: 0, available: 8 }),
      expect.objectContaining({
        warehouseCode: 'SH',
        onHand: 9,
        unsellable: 9,
        available: 0,
        lots: [expect.objectContaining({ state: 'QUARANTINED' })],
      }),
    ]);
    expect(view.total).toMatchObject({ onHand: 19, available: 8 });
    const release = await admin('POST', '/admin/lots/BERRY/SH/L1/release', { reason: 'probe ok' }, 'q-3');
    expect(release.json()).toMatchObject({ quarantined: false });
  });
});

describe('orders placed by allocation', () => {
  it('a line without a warehouse goes to the delivery region; GET /orders/:id says why', async () => {
    const body = {
      orderId: 'alloc-1',
      userId: 'u1',
      lines: [{ sku: 'BERRY', quantity: 2 }],
      allocation: { deliveryRegion: 'north' },
    };
    const res = await app.inject({ method: 'POST', url: '/orders', payload: body });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({
      lines: [{ sku: 'BERRY', warehouseCode: 'BJ', quantity: 2 }],
      allocations: [{ warehouseCode: 'BJ', reason: 'REGION', split: false, detail: expect.stringContaining('north') }],
    });
    const state = (await app.inject({ method: 'GET', url: '/orders/alloc-1' })).json();
    expect(state).toMatchObject({
      lines: [{ sku: 'BERRY', quantity: 2 }],
      allocation: { deliveryRegion: 'north' },
      allocations: [{ warehouseCode: 'BJ' }],
    });
    expect(await level(db, 'BERRY', 'BJ')).toEqual({ onHand: 10, reserved: 2 });

    // Paid: the confirmation takes the units out of their lot, shown on the order.
    const signed = signedPayment('test-webhook-secret', {
      eventId: 'ev-a1',
      type: 'payment.succeeded',
      orderId: 'alloc-1',
      paymentId: 'pay-a1',
      amountCents: 100,
    });
    await app.inject({ method: 'POST', url: '/webhooks/payments', payload: signed.payload, headers: signed.headers });
    const paid = await eventually(
      async () => (await app.inject({ method: 'GET', url: '/orders/alloc-1' })).json(),
      (s) => s.status === 'CONFIRMED',
    );
    expect(paid.consumedLots).toEqual([
      expect.objectContaining({ sku: 'BERRY', warehouseCode: 'BJ', lotCode: 'L1', quantity: 2, sellable: true }),
    ]);
    expect(await level(db, 'BERRY', 'BJ')).toEqual({ onHand: 8, reserved: 0 });
  });

  it('no split → 409 with the unplaceable line; split allowed → held in both warehouses', async () => {
    const body = { orderId: 'alloc-2', userId: 'u1', lines: [{ sku: 'BERRY', quantity: 12 }] };
    const refused = await app.inject({ method: 'POST', url: '/orders', payload: body });
    expect([refused.statusCode, refused.json().details]).toEqual([
      409,
      { shortages: [{ sku: 'BERRY', requested: 12, available: 9 }] },
    ]);
    const split = await app.inject({
      method: 'POST',
      url: '/orders',
      payload: { ...body, orderId: 'alloc-3', allocation: { allowSplit: true } },
    });
    expect(split.statusCode).toBe(201);
    expect(split.json().lines).toEqual([
      { sku: 'BERRY', warehouseCode: 'BJ', quantity: 3 },
      { sku: 'BERRY', warehouseCode: 'SH', quantity: 9 },
    ]);
  });
});
