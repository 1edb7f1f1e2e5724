/**
 * Bad input says what is wrong and changes nothing: an order, a preferred warehouse or a
 * campaign naming a SKU or warehouse that does not exist is 404 with its code (no hold, no
 * fence, no saga); perishable settings and lot receipts that cannot be right are 400; a user
 * over the order rate limit is told, in seconds, when to come back.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../data/db';
import { orderWorkflowId } from '../../workflows/ids';
import { useAppStack } from '../helpers/app';
import { invariantViolations, level, stock } from '../helpers/db';

const ADMIN = { authorization: 'Bearer test-admin-token' };
const stack = useAppStack('dev', 'say-what-is-wrong-test', { ORDER_RATE_LIMIT_PER_MINUTE: '3' });
let db: Db;
let app: FastifyInstance;

beforeAll(async () => {
  ({ db, app } = stack);
  await stock(db, 'PEAR', 'W1', 10);
  await db.warehouse.create({ data: { code: 'W2', name: 'empty' } }); // exists, holds no PEAR
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const place = (body: object) => app.inject({ method: 'POST', url: '/orders', payload: body });
const admin = (method: 'POST' | 'PUT', url: string, payload: object, key?: string) =>
  app.inject({ method, url, payload, headers: { ...ADMIN, ...(key ? { 'idempotency-key': key } : {}) } });

/** Nothing of the order anywhere: no hold, no fence, no saga outbox row, no workflow, GET is 404. */
async function expectNoTrace(orderId: string) {
  expect(await db.reservation.count({ where: { orderId } })).toBe(0);
  expect(await db.operationFence.count({ where: { serial: orderId } })).toBe(0);
  expect(await db.sagaStart.count({ where: { orderId } })).toBe(0);
  await expect(stack.env.client.workflow.getHandle(orderWorkflowId(orderId)).describe()).rejects.toThrow();
  expect((await app.inject({ method: 'GET', url: `/orders/${orderId}` })).json().code).toBe('ORDER_NOT_FOUND');
}

describe('orders naming what does not exist', () => {
  it.each([
    [
      'an unknown SKU (one line, named warehouse)',
      'u-sku-1',
      [{ sku: 'NOPE', warehouseCode: 'W1', quantity: 1 }],
      'UNKNOWN_PRODUCT',
      { sku: 'NOPE' },
    ],
    [
      'an unknown warehouse (one line)',
      'u-wh-1',
      [{ sku: 'PEAR', warehouseCode: 'W9', quantity: 1 }],
      'UNKNOWN_WAREHOUSE',
      { warehouseCode: 'W9' },
    ],
    [
      'an unknown SKU among several lines',
      'u-sku-2',
      [
        { sku: 'PEAR', warehouseCode: 'W1', quantity: 1 },
        { sku: 'NOPE', warehouseCode: 'W1', quantity: 1 },
      ],
      'UNKNOWN_PRODUCT',
      { sku: 'NOPE' },
    ],
    [
      'an unknown SKU left to allocation',
      'u-sku-3',
      [{ sku: 'NOPE', quantity: 1 }],
      'UNKNOWN_PRODUCT',
      { sku: 'NOPE' },
    ],
  ])('%s → 404 with its code; nothing held, recorded or started', async (_name, orderId, lines, code, details) => {
    const res = await place({ orderId, userId: `user-${orderId}`, lines });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ code, message: expect.any(String), details });
    await expectNoTrace(orderId);
    expect(await level(db, 'PEAR', 'W1')).toEqual({ onHand: 10, reserved: 0 });
  });

  it('a SKU and warehouse that exist without stock there is still a shortage (409)', async () => {
    const res = await place({
      orderId: 'u-none',
      userId: 'user-none',
      lines: [{ sku: 'PEAR', warehouseCode: 'W2', quantity: 1 }],
    });
    expect([res.statusCode, res.json().code]).toEqual([409, 'INSUFFICIENT_STOCK']);
  });

  it('an unknown preferredWarehouse → 404 UNKNOWN_WAREHOUSE, not silently ignored', async () => {
    for (const [orderId, line] of [
      ['u-pref-1', { sku: 'PEAR', quantity: 1 }],
      ['u-pref-2', { sku: 'PEAR', warehouseCode: 'W1', quantity: 1 }],
    ] as const) {
      const res = await place({
        orderId,
        userId: `user-${orderId}`,
        lines: [line],
        allocation: { preferredWarehouse: 'W9' },
      });
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'UNKNOWN_WAREHOUSE', details: { warehouseCode: 'W9' } });
      await expectNoTrace(orderId);
    }
    const known = await place({
      orderId: 'u-pref-3',
      userId: 'user-pref-3',
      lines: [{ sku: 'PEAR', quantity: 1 }],
      allocation: { preferredWarehouse: 'W1' },
    });
    expect(known.statusCode).toBe(201);
  });
});

describe('admin input that cannot be right', () => {
  const window = {
    startsAt: new Date(Date.now() - 1000).toISOString(),
    endsAt: new Date(Date.now() + 3600_000).toISOString(),
    quota: 1,
    perUserLimit: 1,
  };

  it('a campaign for an unknown SKU or warehouse → 404, nothing set aside', async () => {
    const sku = await admin('POST', '/admin/campaigns', { id: 'c-nope', sku: 'NOPE', warehouseCode: 'W1', ...window });
    expect([sku.statusCode, sku.json().code]).toEqual([404, 'UNKNOWN_PRODUCT']);
    const wh = await admin('POST', '/admin/campaigns', {
      id: 'c-nope-wh',
      sku: 'PEAR',
      warehouseCode: 'W9',
      ...window,
    });
    expect([wh.statusCode, wh.json().code]).toEqual([404, 'UNKNOWN_WAREHOUSE']);
    const pre = await admin('POST', '/admin/campaigns', {
      id: 'c-nope-pre',
      kind: 'PRE_SALE',
      expectedAt: window.endsAt,
      sku: 'NOPE',
      warehouseCode: 'W1',
      ...window,
    });
    expect([pre.statusCode, pre.json().code]).toEqual([404, 'UNKNOWN_PRODUCT']);
    expect(await db.campaign.count()).toBe(0);
    // Known but short is still 409.
    const short = await admin('POST', '/admin/campaigns', {
      id: 'c-short',
      sku: 'PEAR',
      warehouseCode: 'W1',
      ...window,
      quota: 500,
    });
    expect([short.statusCode, short.json().code]).toEqual([409, 'INSUFFICIENT_STOCK']);
  });

  it('removalDaysBeforeExpiry > alertDaysBeforeExpiry → 400, also against the stored setting', async () => {
    const bad = await admin('PUT', '/admin/products/FIG', {
      name: 'Figs',
      lotTracked: true,
      alertDaysBeforeExpiry: 1,
      removalDaysBeforeExpiry: 2,
    });
    expect([bad.statusCode, bad.json().code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(await db.product.count({ where: { sku: 'FIG' } })).toBe(0);
    expect(
      (
        await admin('PUT', '/admin/products/FIG', {
          name: 'Figs',
          lotTracked: true,
          alertDaysBeforeExpiry: 2,
          removalDaysBeforeExpiry: 1,
        })
      ).statusCode,
    ).toBe(200);
    const later = await admin('PUT', '/admin/products/FIG', { name: 'Figs', removalDaysBeforeExpiry: 3 });
    expect([later.statusCode, later.json().code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(await db.product.findUnique({ where: { sku: 'FIG' } })).toMatchObject({
      alertDaysBeforeExpiry: 2,
      removalDaysBeforeExpiry: 1,
    });
  });

  it('a lot receipt needs a use-by date ahead; an existing lot keeps its own; nothing else takes one', async () => {
    const receipt = { sku: 'FIG', warehouseCode: 'W1', quantity: 5, reason: 'po', lotCode: 'FIG-1' };
    const none = await admin('POST', '/admin/receipts', receipt, 'r-none');
    expect([none.statusCode, none.json().code]).toEqual([400, 'VALIDATION_FAILED']);
    const past = await admin(
      'POST',
      '/admin/receipts',
      { ...receipt, expiresAt: new Date(Date.now() - 3600_000).toISOString() },
      'r-past',
    );
    expect([past.statusCode, past.json().code]).toEqual([400, 'VALIDATION_FAILED']);
    expect(await db.stockLot.count({ where: { sku: 'FIG' } })).toBe(0);
    expect(await db.operationFence.count({ where: { serial: { in: ['admin:r-none', 'admin:r-past'] } } })).toBe(0);

    const expiresAt = new Date(Date.now() + 10 * 86_400_000).toISOString();
    expect((await admin('POST', '/admin/receipts', { ...receipt, expiresAt }, 'r-ok')).statusCode).toBe(201);
    expect((await admin('POST', '/admin/receipts', receipt, 'r-more')).statusCode).toBe(201); // into the lot it names
    expect(await db.stockLot.findMany({ where: { sku: 'FIG' }, select: { quantity: true, expiresAt: true } })).toEqual([
      { quantity: 10, expiresAt: new Date(expiresAt) },
    ]);
    const plain = await admin(
      'POST',
      '/admin/receipts',
      { sku: 'PEAR', warehouseCode: 'W1', quantity: 1, reason: 'po', expiresAt },
      'r-plain',
    );
    expect([plain.statusCode, plain.json().code]).toEqual([400, 'VALIDATION_FAILED']);
  });
});

it('429 RATE_LIMITED says when to retry: retryAfter in seconds (a number) and the Retry-After header', async () => {
  const order = (n: number) =>
    place({ orderId: `rl-${n}`, userId: 'busy-user', lines: [{ sku: 'PEAR', warehouseCode: 'W1', quantity: 1 }] });
  for (const n of [1, 2, 3]) expect((await order(n)).statusCode).toBe(201);
  const limited = await order(4);
  expect(limited.statusCode).toBe(429);
  const body = limited.json();
  expect(body).toMatchObject({ code: 'RATE_LIMITED', details: { retryAfter: expect.any(Number) } });
  expect(body.details.retryAfter).toBeGreaterThan(0);
  expect(body.details.retryAfter).toBeLessThanOrEqual(60);
  expect(limited.headers['retry-after']).toBe(String(body.details.retryAfter));
  await expectNoTrace('rl-4');
});

it('flash-sale orders spend the limits only when the gate admits them: refusals are free, an order past the limit takes no token', async () => {
  await stock(db, 'KIWI', 'W1', 10);
  const window = {
    startsAt: new Date(Date.now() - 1000).toISOString(),
    endsAt: new Date(Date.now() + 3600_000).toISOString(),
  };
  expect(
    (
      await admin('POST', '/admin/campaigns', {
        id: 'c-lim',
        sku: 'KIWI',
        warehouseCode: 'W1',
        ...window,
        quota: 6,
        perUserLimit: 5,
      })
    ).statusCode,
  ).toBe(201);
  expect(
    (
      await admin('POST', '/admin/campaigns', {
        id: 'c-gone',
        sku: 'KIWI',
        warehouseCode: 'W1',
        ...window,
        quota: 1,
        perUserLimit: 1,
      })
    ).statusCode,
  ).toBe(201);
  const flash = (campaign: string, orderId: string, userId: string) =>
    app.inject({ method: 'POST', url: `/campaigns/${campaign}/orders`, payload: { orderId, userId, quantity: 1 } });
  const gate = async (campaign: string) =>
    (await app.inject({ method: 'GET', url: `/admin/campaigns/${campaign}`, headers: ADMIN })).json().gate;

  // Admitted orders spend: three fit the limit of 3, the fourth is refused in the gate's step and takes no token.
  for (const n of [1, 2, 3]) expect((await flash('c-lim', `fl-${n}`, 'flash-user')).statusCode).toBe(201);
  const limited = await flash('c-lim', 'fl-4', 'flash-user');
  expect([limited.statusCode, limited.json().code]).toEqual([429, 'RATE_LIMITED']);
  expect(await gate('c-lim')).toMatchObject({ tokens: 3 });
  await expectNoTrace('fl-4');

  // Gate refusals spend nothing: a shopper told SOLD_OUT five times may still order elsewhere.
  expect((await flash('c-gone', 'fg-0', 'first-buyer')).statusCode).toBe(201);
  for (const n of [1, 2, 3, 4, 5])
    expect((await flash('c-gone', `fg-${n}`, 'late-shopper')).json().code).toBe('SOLD_OUT');
  for (const n of [1, 2, 3]) expect((await flash('c-lim', `fl-late-${n}`, 'late-shopper')).statusCode).toBe(201);
});
