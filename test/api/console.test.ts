/**
 * Issue 20: the operator console through inject() on the real API (PostgreSQL, Redis, a
 * Temporal dev server): the pages show what the JSON API says, sign-in with a bad key is a
 * 401 page, a POST without its CSRF token is 403 and changes nothing, an `ops` key pressing
 * Release is 403 and changes nothing, an admin's Extend and Release go through the API's use
 * cases (fence, saga, audit), every value is escaped, every page carries the CSP, and nothing
 * of the console answers on the ops port.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { listenOps } from '../../api/server';
import { escapeHtml, html, trusted } from '../../api/routes/console/html';
import type { Db } from '../../data/db';
import { createKey, revokeKey } from '../../data/keys/api-keys';
import { storePayment } from '../../data/payments/payments';
import { Scope } from '../../domain/api-keys';
import { eventually, testApp, useAppStack } from '../helpers/app';
import { ConsoleVisitor, figure } from '../helpers/console-session';
import { invariantViolations, level, stock } from '../helpers/db';

const stack = useAppStack('dev', 'console-test', { OPS_PORT: '0', HOST: '127.0.0.1' });
let db: Db;
let app: FastifyInstance;
let opsKey: string;
let adminKey: string;
let adminKeyId: string;

beforeAll(async () => {
  ({ db, app } = stack);
  await stock(db, 'KIWI', 'W1', 50);
  await stock(db, 'KIWI', 'W2', 7);
  opsKey = (await createKey(db, { name: 'on-call', scopes: [Scope.OPS], createdBy: 'test' })).key;
  const admin = await createKey(db, { name: 'console admin', scopes: [Scope.ADMIN], createdBy: 'test' });
  adminKey = admin.key;
  adminKeyId = admin.id;
});
afterAll(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const place = async (orderId: string, quantity = 1, warehouseCode = 'W1') => {
  const res = await app.inject({
    method: 'POST',
    url: '/orders',
    payload: { orderId, userId: 'u-console', lines: [{ sku: 'KIWI', warehouseCode, quantity }] },
  });
  expect(res.statusCode).toBe(201);
  return res.json<{ expiresAt: string }>();
};
const json = async <T>(url: string) => (await app.inject({ method: 'GET', url })).json<T>();
const hold = (orderId: string) => db.reservation.findUniqueOrThrow({ where: { id: orderId } });
const signedIn = async (key: string) => {
  const visitor = new ConsoleVisitor(app);
  const res = await visitor.signIn(key);
  expect([res.statusCode, res.headers.location]).toEqual([303, '/console']);
  return visitor;
};

describe('the escaping template', () => {
  it('escapes every interpolated value, text and attribute alike; only Html passes as is', () => {
    const hostile = `<script>alert("x")</script>' onmouseover='y' \`z\` &amp;`;
    expect(String(html`<td title="${hostile}">${hostile}</td>`)).toBe(
      `<td title="${escapeHtml(hostile)}">${escapeHtml(hostile)}</td>`,
    );
    expect(escapeHtml(hostile)).not.toMatch(/[<>"'`]/);
    expect(escapeHtml('&amp;')).toBe('&amp;amp;');
    expect(String(html`<p>${[1, null, undefined, false, 'a<b', trusted('<b>ok</b>')]}</p>`)).toBe(
      '<p>1a&lt;b<b>ok</b></p>',
    );
  });
});

describe('sign-in', () => {
  it('a bad key gets the 401 sign-in page and no session; without a session a page sends the browser to the sign-in', async () => {
    const visitor = new ConsoleVisitor(app);
    const res = await visitor.signIn('sk_0123456789abcdef_notarealsecretnotarealsecretnotareal');
    expect(res.statusCode).toBe(401);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('UNAUTHORIZED');
    expect(visitor.cookies.has('stockhold_console')).toBe(false);
    const page = await visitor.get('/console');
    expect([page.statusCode, page.headers.location]).toEqual([303, '/console/sign-in']);
    // An API key sent as a bearer header is not a console session.
    const bearer = await app.inject({
      method: 'GET',
      url: '/console',
      headers: { authorization: `Bearer ${adminKey}` },
    });
    expect(bearer.statusCode).toBe(303);
  });

  it('a key with neither ops nor admin is refused (403); a revoked key ends its session at the next request', async () => {
    const orders = (await createKey(db, { name: 'shop', scopes: [Scope.ORDERS], createdBy: 'test' })).key;
    const shop = new ConsoleVisitor(app);
    const refused = await shop.signIn(orders);
    expect([refused.statusCode, refused.body.includes('FORBIDDEN')]).toEqual([403, true]);
    expect(shop.cookies.has('stockhold_console')).toBe(false);

    const temp = await createKey(db, { name: 'temp ops', scopes: [Scope.OPS], createdBy: 'test' });
    const visitor = await signedIn(temp.key);
    expect((await visitor.get('/console')).statusCode).toBe(200);
    await revokeKey(db, temp.id, 'test');
    app.keys.evict(temp.id);
    const after = await visitor.get('/console');
    expect([after.statusCode, after.headers.location]).toEqual([303, '/console/sign-in']);
  });

  it('a tampered session cookie is no session', async () => {
    const visitor = await signedIn(opsKey);
    const cookie = visitor.cookies.get('stockhold_console')!;
    visitor.cookies.set('stockhold_console', cookie.replace(/^[^.]+/, 'bootstrap'));
    expect((await visitor.get('/console')).statusCode).toBe(303);
  });

  it('sign out ends the session', async () => {
    const visitor = await signedIn(opsKey);
    await visitor.get('/console');
    const out = await visitor.post('/console/sign-out');
    expect([out.statusCode, out.headers.location]).toEqual([303, '/console/sign-in']);
    expect((await visitor.get('/console')).statusCode).toBe(303);
  });
});

describe('pages show what the JSON API says', () => {
  it('overview: live holds and holds past expiry are the counts GET /admin/holds lists; payments as GET /admin/payments', async () => {
    await place('con-ov-1');
    await place('con-ov-2', 2);
    await place('con-ov-3', 1, 'W2');
    // One hold past its expiry (its saga's timer is still far off): what the sweeper would find.
    await db.reservation.update({ where: { id: 'con-ov-3' }, data: { expiresAt: new Date(Date.now() - 60_000) } });
    const visitor = await signedIn(opsKey);
    const page = await visitor.get('/console');
    expect(page.statusCode).toBe(200);
    const live = await json<{ data: unknown[] }>('/admin/holds?limit=500');
    const past = await json<{ data: unknown[] }>('/admin/holds?pastExpiry=true&limit=500');
    const pending = await json<{ data: unknown[] }>('/admin/payments?state=PENDING&limit=500');
    expect(live.data.length).toBeGreaterThanOrEqual(3);
    expect(past.data.length).toBeGreaterThanOrEqual(1);
    expect(figure(page.body, 'holds-live')).toBe(live.data.length);
    expect(figure(page.body, 'holds-past-expiry')).toBe(past.data.length);
    expect(figure(page.body, 'payments-pending')).toBe(pending.data.length);
    // The panel htmx polls is the same figures, without the page around it.
    const panel = await visitor.get('/console/overview/panel', { 'hx-request': 'true' });
    expect(panel.body).toMatch(/^<div\s+id="overview"\s+hx-get="\/console\/overview\/panel"\s+hx-trigger="every \d+s"/);
    expect(figure(panel.body, 'holds-live')).toBe(live.data.length);
  });

  it('stock: each level row has the figures GET /inventory/:sku answers; holds: every hold GET /admin/holds lists', async () => {
    const visitor = await signedIn(opsKey);
    const page = await visitor.get('/console/stock?sku=KIWI');
    expect(page.statusCode).toBe(200);
    const inv = await json<{ warehouses: Record<string, number | string>[] }>('/inventory/KIWI');
    for (const w of inv.warehouses) {
      const row = new RegExp(`<tr data-level="KIWI/${w.warehouseCode}">([\\s\\S]*?)</tr>`).exec(page.body)?.[1];
      expect(row).toBeDefined();
      const cells = [...row!.matchAll(/<td class="num[^"]*">([^<]*)<\/td>/g)].map((m) =>
        Number(m[1].replace(/,/g, '')),
      );
      const keys = [
        'onHand',
        'reserved',
        'safetyStock',
        'unsellable',
        'damaged',
        'qualityControl',
        'incoming',
        'available',
      ];
      expect(cells).toEqual(keys.map((k) => w[k]));
    }
    const holds = await visitor.get('/console/holds?sku=KIWI');
    const listed = await json<{ data: { orderId: string }[] }>('/admin/holds?sku=KIWI&limit=500');
    const shown = [...holds.body.matchAll(/<tr data-order="([^"]+)">/g)].map((m) => m[1]);
    expect(shown).toEqual(listed.data.map((h) => h.orderId));
    // ops reads: no action form is offered to it.
    expect(holds.body).not.toContain('/extend');
  });
});

describe('actions', () => {
  it('a POST without its CSRF token, or with a forged one, is 403 and nothing changes', async () => {
    await place('con-csrf');
    const before = await hold('con-csrf');
    const visitor = await signedIn(adminKey);
    await visitor.get('/console/holds');
    const none = await visitor.post('/console/holds/con-csrf/release', { _csrf: null, reason: 'no token' });
    expect([none.statusCode, none.body.includes('FORBIDDEN'), none.body.includes('CSRF')]).toEqual([403, true, true]);
    const forged = await visitor.post('/console/holds/con-csrf/extend', {
      _csrf: 'forged-token',
      extensionId: 'x-forged',
      seconds: '60',
      reason: 'forged',
    });
    expect(forged.statusCode).toBe(403);
    const after = await hold('con-csrf');
    expect([after.status, after.expiresAt.getTime()]).toEqual([before.status, before.expiresAt.getTime()]);
    expect(await db.holdExtension.count({ where: { orderId: 'con-csrf' } })).toBe(0);
    expect(await db.adminAudit.count({ where: { url: { startsWith: '/console/holds/con-csrf' } } })).toBe(0);
  });

  it('an ops key pressing Release (or Extend) is 403 FORBIDDEN and the hold stays', async () => {
    await place('con-ops');
    const visitor = await signedIn(opsKey);
    await visitor.get('/console/holds');
    const release = await visitor.post('/console/holds/con-ops/release', { reason: 'ops tries' });
    expect([release.statusCode, release.body.includes('FORBIDDEN')]).toEqual([403, true]);
    const extend = await visitor.post('/console/holds/con-ops/extend', {
      extensionId: 'x-ops',
      seconds: '60',
      reason: 'ops tries',
    });
    expect(extend.statusCode).toBe(403);
    const run = await visitor.post('/console/reconciliation/run');
    expect(run.statusCode).toBe(403);
    expect((await hold('con-ops')).status).toBe('RESERVED');
    expect(await db.holdExtension.count({ where: { orderId: 'con-ops' } })).toBe(0);
  });

  it("an admin's Extend moves the expiry (fenced, audited with the key); Release gives the stock back; bad input is a 400 page", async () => {
    const placed = await place('con-act', 3);
    const visitor = await signedIn(adminKey);
    await visitor.get('/console/holds');
    const extended = await visitor.post('/console/holds/con-act/extend', {
      extensionId: 'x-act',
      seconds: '120',
      reason: 'card check',
    });
    expect([extended.statusCode, extended.headers.location]).toEqual([
      303,
      '/console/holds?done=extended&order=con-act',
    ]);
    const after = await hold('con-act');
    expect(after.expiresAt.getTime()).toBe(Date.parse(placed.expiresAt) + 120_000);
    // The same form sent again (same extension id) extends once.
    const again = await visitor.post('/console/holds/con-act/extend', {
      extensionId: 'x-act',
      seconds: '120',
      reason: 'card check',
    });
    expect(again.statusCode).toBe(303);
    expect((await hold('con-act')).expiresAt.getTime()).toBe(after.expiresAt.getTime());
    expect(await db.holdExtension.findMany({ where: { orderId: 'con-act' }, select: { source: true } })).toEqual([
      { source: 'CONSOLE' },
    ]);
    const audit = await db.adminAudit.findMany({ where: { url: '/console/holds/con-act/extend' } });
    expect(audit.map((a) => a.actor)).toEqual([adminKeyId, adminKeyId]);
    expect(JSON.stringify(audit[0].body)).not.toContain('_csrf');
    // The page says so, with the new expiry.
    const page = await visitor.get('/console/holds?done=extended&order=con-act');
    expect(page.body).toContain('Hold con-act extended');
    expect(page.body).toContain(after.expiresAt.toISOString());

    const bad = await visitor.post('/console/holds/con-act/extend', {
      extensionId: 'x-bad',
      seconds: 'soon',
      reason: 'x',
    });
    expect([bad.statusCode, bad.body.includes('VALIDATION_FAILED')]).toEqual([400, true]);
    const noReason = await visitor.post('/console/holds/con-act/release', { reason: '' });
    expect(noReason.statusCode).toBe(400);
    expect((await hold('con-act')).status).toBe('RESERVED');

    const before = await level(db, 'KIWI', 'W1');
    const released = await visitor.post('/console/holds/con-act/release', { reason: 'customer called' });
    expect([released.statusCode, released.headers.location]).toEqual([
      303,
      '/console/holds?done=released&order=con-act',
    ]);
    await eventually(
      () => hold('con-act'),
      (h) => h.status === 'RELEASED',
      20_000,
    );
    expect((await level(db, 'KIWI', 'W1')).reserved).toBe(before.reserved - 3);
    expect((await db.adminAudit.findFirstOrThrow({ where: { url: '/console/holds/con-act/release' } })).actor).toBe(
      adminKeyId,
    );
    // Released again (the form sent twice): the first answer, as the API's cancel repeats it.
    const twice = await visitor.post('/console/holds/con-act/release', { reason: 'customer called' });
    expect(twice.statusCode).toBe(303);
  });

  it('payments: an unsettled payment (stored, its signal lost) is listed as GET /admin/payments lists it; "Drive settlement" has its saga confirm it', async () => {
    await place('con-pay', 1);
    // As if the webhook stored it and died before telling the saga: PENDING, nobody on it.
    await storePayment(db, { orderId: 'con-pay', paymentId: 'pay-con', eventId: 'ev-con-pay', amountCents: 900 });
    const visitor = await signedIn(adminKey);
    const page = await visitor.get('/console/payments?state=PENDING');
    const listed = await json<{ data: { orderId: string; paymentId: string }[] }>(
      '/admin/payments?state=PENDING&limit=500',
    );
    const shown = [...page.body.matchAll(/<tr data-payment="([^"]+)">/g)].map((m) => m[1]);
    expect(shown).toEqual(listed.data.map((p) => `${p.orderId}/${p.paymentId}`));
    expect(shown).toContain('con-pay/pay-con');
    expect(page.body).toContain('/console/payments/con-pay/pay-con/settle');

    const driven = await visitor.post('/console/payments/con-pay/pay-con/settle');
    expect([driven.statusCode, driven.headers.location]).toEqual([
      303,
      '/console/payments?done=settled&order=con-pay&payment=pay-con&result=DELIVERED',
    ]);
    const settled = await eventually(
      () => db.payment.findFirstOrThrow({ where: { orderId: 'con-pay', paymentId: 'pay-con' } }),
      (p) => p.state !== 'PENDING',
      20_000,
    );
    expect(settled.state).toBe('CONFIRMED');
    expect((await hold('con-pay')).status).toBe('CONFIRMED');
    expect(
      (await db.adminAudit.findFirstOrThrow({ where: { url: '/console/payments/con-pay/pay-con/settle' } })).actor,
    ).toBe(adminKeyId);
    // Settled meanwhile: pressing again changes nothing and says so.
    const again = await visitor.post('/console/payments/con-pay/pay-con/settle');
    expect(again.headers.location).toContain('result=ALREADY_SETTLED');
  });

  it('reconciliation: "run now" records a run the JSON API then reports', async () => {
    const visitor = await signedIn(adminKey);
    await visitor.get('/console/reconciliation');
    const run = await visitor.post('/console/reconciliation/run');
    expect(run.statusCode).toBe(303);
    const latest = await json<{ runId: string; clean: boolean }>('/admin/reconciliation');
    expect(run.headers.location).toBe(`/console/reconciliation?done=reconciled&run=${latest.runId}`);
    const page = await visitor.get(run.headers.location as string);
    expect(page.body).toContain(`<code>${latest.runId}</code>`);
    // Event subscriptions' health, as GET /admin/event-subscriptions lists them.
    const sub = await app.inject({
      method: 'POST',
      url: '/admin/event-subscriptions',
      payload: { url: 'http://127.0.0.1:9/hook', description: 'the ERP' },
    });
    expect(sub.statusCode).toBe(201);
    const listed = await json<{ subscriptions: { id: string; status: string }[] }>('/admin/event-subscriptions');
    const again = await visitor.get('/console/reconciliation');
    for (const s of listed.subscriptions) expect(again.body).toContain(`<code>${s.id}</code>`);
    expect(again.body).toContain('the ERP');
  });
});

describe('safety', () => {
  it('a hostile product name is escaped on the page; every page carries the CSP and no inline script', async () => {
    const name = '<script>alert("pwned")</script><img src=x onerror=alert(1)>';
    await db.product.update({ where: { sku: 'KIWI' }, data: { name } });
    const visitor = await signedIn(opsKey);
    const pages = [
      '/console',
      '/console/stock',
      '/console/stock/KIWI',
      '/console/sales',
      '/console/holds',
      '/console/payments',
      '/console/alerts',
      '/console/history',
      '/console/reconciliation',
      '/console/sign-in',
    ];
    for (const url of pages) {
      const res = await visitor.get(url);
      expect([url, res.statusCode]).toEqual([url, 200]);
      expect(res.headers['content-security-policy']).toMatch(/^default-src 'self'; script-src 'self'/);
      // Scripts only by src, from this origin; no inline handler anywhere.
      expect(res.body.match(/<script[^>]*>/g)?.every((tag) => /src="\/console\/assets\/[a-z.]+"/.test(tag))).toBe(true);
      expect(res.body).not.toMatch(/<[a-z][^>]*\son[a-z]+=/i);
    }
    const stockPage = await visitor.get('/console/stock/KIWI');
    expect(stockPage.body).toContain(escapeHtml(name));
    expect(stockPage.body).not.toContain('<script>alert');
    const htmx = await visitor.get('/console/assets/htmx.min.js');
    expect([htmx.statusCode, htmx.headers['content-type']]).toEqual([200, 'text/javascript; charset=utf-8']);
    await db.product.update({ where: { sku: 'KIWI' }, data: { name: 'Kiwi' } });
  });

  it('CONSOLE_ENABLED=false: no console at all (404), the API unchanged', async () => {
    const { app: off } = await testApp(stack.env, db, {
      TEMPORAL_TASK_QUEUE: 'console-test',
      CONSOLE_ENABLED: 'false',
    });
    try {
      for (const url of ['/console', '/console/sign-in', '/console/assets/htmx.min.js'])
        expect([url, (await off.inject({ method: 'GET', url })).statusCode]).toEqual([url, 404]);
      expect((await off.inject({ method: 'GET', url: '/admin/holds' })).statusCode).toBe(200);
    } finally {
      await off.close();
    }
  });

  it('nothing of the console is served on the ops port (404), not even the sign-in or its assets', async () => {
    const ops: Server = await listenOps(app, { host: '127.0.0.1', port: 0 });
    try {
      const port = (ops.address() as AddressInfo).port;
      for (const path of ['/console', '/console/sign-in', '/console/assets/console.css', '/console/holds']) {
        const res = await fetch(`http://127.0.0.1:${port}${path}`, { redirect: 'manual' });
        expect([path, res.status]).toEqual([path, 404]);
      }
      const post = await fetch(`http://127.0.0.1:${port}/console/sign-in`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `key=${encodeURIComponent(adminKey)}`,
      });
      expect(post.status).toBe(404);
      expect(post.headers.get('set-cookie')).toBeNull();
      // Nor in the API's OpenAPI document (served there): the console is no API.
      const doc = (await (await fetch(`http://127.0.0.1:${port}/docs/json`)).json()) as { paths: object };
      expect(Object.keys(doc.paths).length).toBeGreaterThan(10);
      expect(Object.keys(doc.paths).filter((p) => p.startsWith('/console'))).toEqual([]);
    } finally {
      await new Promise((resolve) => ops.close(resolve));
    }
  });
});
