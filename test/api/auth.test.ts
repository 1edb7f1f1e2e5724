/**
 * API keys through the real API (PostgreSQL, Redis, Temporal's time-skipping server): 401
 * without a key, 403 with a key lacking the scope, for a route of every scope; keys created,
 * listed and revoked; revoked and expired keys refused; the actor on ledger rows and in the
 * admin audit log; the OpenAPI document's security; an order is its placing key's (another
 * shop's key gets 404), the per-user limit is per (key, user), the bootstrap key limited to
 * `admin` in production or switched off. No request here gets a key by default.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { createKey } from '../../data/keys/api-keys';
import type { Db } from '../../data/db';
import { ALL_SCOPES, Scope } from '../../domain/api-keys';
import auth from '../../api/plugins/auth';
import errorsPlugin from '../../api/plugins/errors';
import { testApp } from '../helpers/app';
import { stock } from '../helpers/db';
import { testConfig } from '../helpers/env';
import { useSagaStack } from '../helpers/temporal';

const TASK_QUEUE = 'auth-test';
const BOOTSTRAP = { authorization: 'Bearer test-admin-token' };
const stack = useSagaStack('time-skipping', TASK_QUEUE);
let db: Db;
let app: FastifyInstance;

beforeAll(async () => {
  db = stack.db;
  ({ app } = await testApp(stack.env, db, { TEMPORAL_TASK_QUEUE: TASK_QUEUE }, { sendKey: false }));
  await stock(db, 'KEYED', 'W1', 100);
});
afterAll(() => app?.close());

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
const newKey = async (scopes: Scope[], expiresAt?: Date) =>
  (await createKey(db, { name: `test ${scopes.join('+')}`, scopes, expiresAt, createdBy: 'test' })).key;
const order = (
  orderId: string,
  userId = 'u-auth',
  lines: object[] = [{ sku: 'KEYED', warehouseCode: 'W1', quantity: 1 }],
) => ({ orderId, userId, lines });

/** A route of each scope, with a request its scope lets through (2xx, or a domain 4xx). */
const routes: { scope: Scope; method: 'GET' | 'POST'; url: string; payload?: () => object }[] = [
  {
    scope: Scope.ORDERS,
    method: 'POST',
    url: '/orders',
    payload: () => order(`o-${Math.random().toString(36).slice(2, 10)}`),
  },
  { scope: Scope.ORDERS, method: 'GET', url: '/orders/nobody' },
  {
    scope: Scope.ORDERS,
    method: 'POST',
    url: '/campaigns/none/orders',
    payload: () => ({ orderId: 'fs-none', userId: 'u', quantity: 1 }),
  },
  { scope: Scope.INVENTORY_READ, method: 'GET', url: '/inventory/KEYED' },
  { scope: Scope.INVENTORY_READ, method: 'GET', url: '/alerts' },
  { scope: Scope.CAMPAIGNS, method: 'GET', url: '/admin/campaigns/none' },
  { scope: Scope.ADMIN, method: 'GET', url: '/admin/keys' },
  { scope: Scope.ADMIN, method: 'GET', url: '/transfers/none' },
  { scope: Scope.EVENTS, method: 'GET', url: '/events' },
  { scope: Scope.OPS, method: 'GET', url: '/metrics' },
  { scope: Scope.OPS, method: 'GET', url: '/docs/json' },
];

it.each(routes)(
  '$method $url: 401 without a key, 403 without scope $scope, through with it',
  async ({ scope, method, url, payload }) => {
    const call = (headers: Record<string, string>) => app.inject({ method, url, headers, payload: payload?.() });
    for (const headers of [
      {},
      bearer('sk_0123456789abcdef_wrongwrongwrongwrongwrongwrongwrong'),
      bearer('not-a-key'),
      { authorization: 'Basic dGVzdA==' },
    ]) {
      const res = await call(headers);
      expect([res.statusCode, res.json().code]).toEqual([401, 'UNAUTHORIZED']);
    }
    const others = await call(bearer(await newKey(ALL_SCOPES.filter((s) => s !== scope))));
    expect([others.statusCode, others.json().code, others.json().details]).toEqual([
      403,
      'FORBIDDEN',
      { required: scope },
    ]);
    const allowed = await call(bearer(await newKey([scope])));
    expect([401, 403]).not.toContain(allowed.statusCode);
    expect(allowed.statusCode).toBeLessThan(500);
  },
);

it('health probes and the signed webhook need no key', async () => {
  expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  expect([200, 503]).toContain((await app.inject({ method: 'GET', url: '/readyz' })).statusCode);
  // Unsigned: refused by its signature check, not for want of a key.
  expect((await app.inject({ method: 'POST', url: '/webhooks/payments', payload: {} })).json().code).toBe(
    'INVALID_SIGNATURE',
  );
});

it('keys: created once-shown, listed without secrets, revoked → refused at once; expired → refused', async () => {
  const created = await app.inject({
    method: 'POST',
    url: '/admin/keys',
    headers: BOOTSTRAP,
    payload: { name: 'shop order service', scopes: ['orders', 'inventory:read'] },
  });
  expect(created.statusCode).toBe(201);
  const { key, id } = created.json();
  expect(key).toMatch(new RegExp(`^sk_${id}_`));
  expect(created.json()).toMatchObject({
    name: 'shop order service',
    scopes: ['orders', 'inventory:read'],
    createdBy: 'bootstrap',
    expiresAt: null,
    revokedAt: null,
  });

  const listed = await app.inject({ method: 'GET', url: '/admin/keys', headers: BOOTSTRAP });
  const entry = listed.json().keys.find((k: { id: string }) => k.id === id);
  expect(entry).toMatchObject({ id, name: 'shop order service' });
  expect(JSON.stringify(listed.json())).not.toContain(key.slice(-20));
  expect(entry).not.toHaveProperty('hash');

  const read = () => app.inject({ method: 'GET', url: '/inventory/KEYED', headers: bearer(key) });
  expect((await read()).statusCode).toBe(200);
  // A key with scope admin revokes it; the next request is refused (no waiting for a cache).
  const adminKey = await newKey([Scope.ADMIN]);
  const revoked = await app.inject({ method: 'POST', url: `/admin/keys/${id}/revoke`, headers: bearer(adminKey) });
  expect(revoked.json()).toMatchObject({ id, revokedBy: adminKey.slice(3, 19) });
  expect([(await read()).statusCode, (await read()).json().message]).toEqual([401, 'this API key is revoked']);
  // Revoking again changes nothing; an unknown id is 404; a malformed one 400.
  const again = await app.inject({ method: 'POST', url: `/admin/keys/${id}/revoke`, headers: BOOTSTRAP });
  expect(again.json().revokedAt).toBe(revoked.json().revokedAt);
  expect(
    (await app.inject({ method: 'POST', url: '/admin/keys/0000000000000000/revoke', headers: BOOTSTRAP })).statusCode,
  ).toBe(404);
  expect((await app.inject({ method: 'POST', url: '/admin/keys/nope/revoke', headers: BOOTSTRAP })).statusCode).toBe(
    400,
  );

  const expired = await newKey([Scope.INVENTORY_READ], new Date(Date.now() - 1000));
  const res = await app.inject({ method: 'GET', url: '/inventory/KEYED', headers: bearer(expired) });
  expect([res.statusCode, res.json().message]).toEqual([401, 'this API key has expired']);

  for (const payload of [
    { name: 'x', scopes: ['root'] },
    { name: 'x', scopes: [] },
    { name: 'x', scopes: ['orders'], expiresAt: '2000-01-01T00:00:00Z' },
  ]) {
    expect((await app.inject({ method: 'POST', url: '/admin/keys', headers: BOOTSTRAP, payload })).statusCode).toBe(
      400,
    );
  }
});

it('ledger rows record the key that caused them; admin requests are audited with their actor', async () => {
  const shop = await newKey([Scope.ORDERS]);
  const shopId = shop.slice(3, 19);
  // One line in a named warehouse (the group-commit batch) and one left to allocation (the general hold).
  for (const [orderId, lines] of [
    ['act-1', [{ sku: 'KEYED', warehouseCode: 'W1', quantity: 1 }]],
    ['act-2', [{ sku: 'KEYED', quantity: 2 }]],
  ] as const) {
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/orders',
          headers: bearer(shop),
          payload: order(orderId, 'u-act', [...lines]),
        })
      ).statusCode,
    ).toBe(201);
  }
  const reserves = await db.stockMovement.findMany({
    where: { reference: { in: ['act-1', 'act-2'] }, reason: 'RESERVE' },
  });
  expect(reserves.map((m) => [m.reference, m.actor]).sort()).toEqual([
    ['act-1', shopId],
    ['act-2', shopId],
  ]);

  const adminKey = await newKey([Scope.ADMIN]);
  const receipt = { sku: 'KEYED', warehouseCode: 'W1', quantity: 5, reason: 'audit' };
  const post = (headers: Record<string, string>) =>
    app.inject({
      method: 'POST',
      url: '/admin/receipts',
      headers: { ...headers, 'idempotency-key': 'audit-1' },
      payload: receipt,
    });
  expect((await post(bearer(shop))).statusCode).toBe(403);
  expect((await post(bearer(adminKey))).statusCode).toBe(201);
  const received = await db.stockMovement.findFirstOrThrow({ where: { reference: 'admin:audit-1' } });
  expect(received.actor).toBe(adminKey.slice(3, 19));
  // Reads are not audited; the refused (403) request never reached the audit.
  await app.inject({ method: 'GET', url: '/admin/keys', headers: bearer(adminKey) });
  const audit = await db.adminAudit.findMany({ where: { actor: { in: [shopId, adminKey.slice(3, 19)] } } });
  expect(audit.map((a) => [a.actor, a.method, a.route, a.body])).toEqual([
    [adminKey.slice(3, 19), 'POST', '/admin/receipts', receipt],
  ]);
  // The bootstrap key's changes are audited as `bootstrap`.
  await app.inject({ method: 'PUT', url: '/admin/warehouses/W9', headers: BOOTSTRAP, payload: { name: 'Nine' } });
  expect(await db.adminAudit.findFirst({ where: { url: '/admin/warehouses/W9' } })).toMatchObject({
    actor: 'bootstrap',
    method: 'PUT',
    route: '/admin/warehouses/:code',
  });
});

it('the OpenAPI document names the key scheme, and each operation its scope and 401/403', async () => {
  const doc = (await app.inject({ method: 'GET', url: '/docs/json', headers: BOOTSTRAP })).json();
  expect(doc.components.securitySchemes.apiKey).toMatchObject({ type: 'http', scheme: 'bearer' });
  for (const [path, method, scope] of [
    ['/orders', 'post', 'orders'],
    ['/inventory/{sku}', 'get', 'inventory:read'],
    ['/admin/campaigns', 'post', 'campaigns'],
    ['/admin/receipts', 'post', 'admin'],
    ['/metrics', 'get', 'ops'],
  ]) {
    const op = doc.paths[path][method];
    expect([op.security, op['x-scopes']]).toEqual([[{ apiKey: [] }], [scope]]);
    expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403']));
  }
  for (const [path, method] of [
    ['/healthz', 'get'],
    ['/webhooks/payments', 'post'],
  ])
    expect(doc.paths[path][method].security).toBeUndefined();
});

it('a route that declares no access stops the app from building', async () => {
  const bare = Fastify();
  bare.decorate('deps', { config: testConfig(), db } as never);
  await bare.register(errorsPlugin);
  await bare.register(auth);
  try {
    expect(() => bare.get('/forgotten', async () => 'open')).toThrow(/GET \/forgotten declares no config.access/);
    bare.get('/declared', { config: { access: Scope.ADMIN } }, async () => 'guarded');
    expect((await bare.inject({ method: 'GET', url: '/declared' })).statusCode).toBe(401);
  } finally {
    await bare.close();
  }
});

describe('an order belongs to the key that placed it', () => {
  it('another orders key reading or cancelling it gets 404, as for an unknown order; an admin key and the placing key see it', async () => {
    const [shopA, shopB, adminKey] = [
      await newKey([Scope.ORDERS]),
      await newKey([Scope.ORDERS]),
      await newKey([Scope.ORDERS, Scope.ADMIN]),
    ];
    // One line in a named warehouse (the group-commit batch) and one left to allocation (the general hold).
    const placed = [
      ['own-1', [{ sku: 'KEYED', warehouseCode: 'W1', quantity: 1 }]],
      ['own-2', [{ sku: 'KEYED', quantity: 1 }]],
    ] as const;
    for (const [orderId, lines] of placed) {
      expect(
        (
          await app.inject({
            method: 'POST',
            url: '/orders',
            headers: bearer(shopA),
            payload: order(orderId, 'u-own', [...lines]),
          })
        ).statusCode,
      ).toBe(201);
    }
    const unknown = (await app.inject({ method: 'GET', url: '/orders/own-nobody', headers: bearer(shopB) })).json();
    for (const [orderId] of placed) {
      const read = await app.inject({ method: 'GET', url: `/orders/${orderId}`, headers: bearer(shopB) });
      expect([read.statusCode, read.json()]).toEqual([404, { ...unknown, message: `no order ${orderId}` }]);
      const cancel = await app.inject({ method: 'POST', url: `/orders/${orderId}/cancel`, headers: bearer(shopB) });
      expect([cancel.statusCode, cancel.json().code]).toEqual([404, 'ORDER_NOT_FOUND']);
      for (const key of [shopA, adminKey, 'test-admin-token']) {
        const ok = await app.inject({ method: 'GET', url: `/orders/${orderId}`, headers: bearer(key) });
        expect([ok.statusCode, ok.json().status]).toEqual([200, 'AWAITING_PAYMENT']);
      }
    }
    // The refused cancels changed nothing (no fence); the owner's own cancel is taken.
    expect(await db.operationFence.count({ where: { serial: { in: ['own-1', 'own-2'] }, operation: 'CANCEL' } })).toBe(
      0,
    );
    expect((await app.inject({ method: 'POST', url: '/orders/own-1/cancel', headers: bearer(shopA) })).statusCode).toBe(
      202,
    );
  });

  it("the per-user order limit is per (key, user): one shop's shopper does not spend another shop's", async () => {
    const { app: limited } = await testApp(
      stack.env,
      db,
      { TEMPORAL_TASK_QUEUE: TASK_QUEUE, ORDER_RATE_LIMIT_PER_MINUTE: '2' },
      { sendKey: false },
    );
    try {
      const [shopA, shopB] = [await newKey([Scope.ORDERS]), await newKey([Scope.ORDERS])];
      const user = `u-shared-${Math.random().toString(36).slice(2, 10)}`;
      const place = (key: string, orderId: string) =>
        limited.inject({
          method: 'POST',
          url: '/orders',
          headers: bearer(key),
          payload: order(`${orderId}-${user}`, user),
        });
      const a = [await place(shopA, 'la-1'), await place(shopA, 'la-2'), await place(shopA, 'la-3')];
      expect(a.map((r) => r.statusCode)).toEqual([201, 201, 429]);
      expect(a[2].json()).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 'user' } });
      // The same user id sent by another key is another shopper.
      expect((await place(shopB, 'lb-1')).statusCode).toBe(201);
    } finally {
      await limited.close();
    }
  });
});

describe('the bootstrap key (ADMIN_TOKEN)', () => {
  const guarded = async (bootstrapKey: { enabled: boolean; adminOnly: boolean }) => {
    const bare = Fastify();
    bare.decorate('deps', { config: { ...testConfig(), bootstrapKey }, db } as never);
    await bare.register(errorsPlugin);
    await bare.register(auth);
    bare.get('/admin-only', { config: { access: Scope.ADMIN } }, async () => 'admin');
    bare.get('/orders-only', { config: { access: Scope.ORDERS } }, async () => 'orders');
    return bare;
  };
  const call = (a: FastifyInstance, url: string, headers = BOOTSTRAP) => a.inject({ method: 'GET', url, headers });

  it('in production it carries scope admin only: enough to create real keys, never an order', async () => {
    const prod = await guarded({ enabled: true, adminOnly: true });
    try {
      expect((await call(prod, '/admin-only')).statusCode).toBe(200);
      const orders = await call(prod, '/orders-only');
      expect([orders.statusCode, orders.json().code]).toEqual([403, 'FORBIDDEN']);
    } finally {
      await prod.close();
    }
  });

  it('switched off (ADMIN_TOKEN_ENABLED=false) it is refused; real keys still work', async () => {
    const off = await guarded({ enabled: false, adminOnly: true });
    try {
      const refused = await call(off, '/admin-only');
      expect([refused.statusCode, refused.json().code, refused.json().message]).toEqual([
        401,
        'UNAUTHORIZED',
        'the bootstrap key is switched off (ADMIN_TOKEN_ENABLED=false): use an API key',
      ]);
      expect((await call(off, '/admin-only', bearer(await newKey([Scope.ADMIN])))).statusCode).toBe(200);
    } finally {
      await off.close();
    }
  });
});
