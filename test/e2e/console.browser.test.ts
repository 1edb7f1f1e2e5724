/**
 * Issue 20 in a real browser: Debian's chromium driven by playwright-core against the real API
 * and worker processes on a Temporal dev server. Sign in; an order placed through the API is
 * found under Holds; Extend shows the new expiry and the saga releases the hold at that time,
 * not the first; Release ends RELEASED with the stock back; during a flash sale the sales
 * page's sold and remaining follow the API within two of its refreshes. Screenshots of every
 * page go to .data/console/ (the overview's also to docs/console-overview.png with UPDATE_DOCS_SCREENSHOTS=1).
 *
 * Skipped, saying why, only when no chromium binary exists (the bootstrap installs one).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Db } from '../../data/db';
import { startDevServer, type DevServer } from '../../platform/dev-server';
import { freePort, runService, waitForHttp, type Service } from '../../platform/processes';
import { searchAttributeKeys } from '../../workflows/search-attributes';
import { eventually, signedPayment } from '../helpers/app';
import { invariantViolations, level, resetDb, stock, testDb } from '../helpers/db';
import { TEST_APP_DATABASE_URL, TEST_REDIS_URL } from '../helpers/env';

const ROOT = path.resolve(__dirname, '../..');
const SHOTS = path.join(ROOT, '.data', 'console');
const TOKEN = 'browser-admin-token';
const SECRET = 'browser-webhook-secret';
const TTL_SECONDS = 8;
const REFRESH_SECONDS = 1;
const KEY = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

/** Debian's chromium (or one on PATH); undefined when the machine has none. */
function findChromium(): string | undefined {
  if (existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  for (const name of ['chromium', 'chromium-browser', 'google-chrome']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim() || undefined;
    } catch {
      // not this one
    }
  }
  return undefined;
}

const executablePath = findChromium();
if (!executablePath)
  console.warn(
    'console.browser.test: SKIPPED — no chromium binary (apt-get install -y chromium, or bash scripts/bootstrap.sh test)',
  );
const maybe = executablePath ? describe : describe.skip;

maybe('the console in chromium', () => {
  let db: Db;
  let temporal: DevServer;
  let api: Service;
  let worker: Service;
  let base: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    db = testDb();
    await resetDb(db);
    await stock(db, 'CHERRY', 'W1', 40);
    await stock(db, 'CHERRY', 'W2', 30);
    temporal = await startDevServer({ searchAttributes: searchAttributeKeys, port: await freePort() });
    const port = await freePort();
    const env = {
      DATABASE_URL: TEST_APP_DATABASE_URL,
      REDIS_URL: TEST_REDIS_URL,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: 'console-browser',
      RESERVATION_TTL_SECONDS: String(TTL_SECONDS),
      WEBHOOK_SECRET: SECRET,
      ADMIN_TOKEN: TOKEN,
      PORT: String(port),
      WORKER_METRICS_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
      CONSOLE_REFRESH_SECONDS: String(REFRESH_SECONDS),
      TEMPORAL_UI_URL: 'http://127.0.0.1:8233',
    };
    worker = runService('worker.ts', env);
    api = runService('api/server.ts', env);
    base = `http://127.0.0.1:${port}`;
    [browser] = await Promise.all([
      chromium.launch({ executablePath, args: ['--no-sandbox'] }),
      waitForHttp(`${base}/readyz`),
    ]);
    page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    mkdirSync(SHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await api?.stop();
    await worker?.stop();
    await temporal?.stop();
    if (db) expect(await invariantViolations(db)).toEqual([]);
    await db?.$disconnect();
  });

  const post = async (url: string, body: unknown, headers: Record<string, string> = KEY) => {
    const res = await fetch(`${base}${url}`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const get = async <T>(url: string) => (await (await fetch(`${base}${url}`, { headers: KEY })).json()) as T;
  const shot = (name: string) => page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
  const holdRow = (orderId: string) => page.locator(`tr[data-order="${orderId}"]`);

  it('sign in, find an order under Holds, Extend: the new expiry shows and the saga releases the hold then, not before', async () => {
    await page.goto(`${base}/console`);
    expect(page.url()).toBe(`${base}/console/sign-in`);
    await shot('sign-in');
    await page.fill('input[name="key"]', TOKEN);
    await page.click('button[type="submit"]');
    await page.waitForURL(`${base}/console`);

    const placed = await post('/orders', {
      orderId: 'b-ext',
      userId: 'u-b',
      lines: [{ sku: 'CHERRY', warehouseCode: 'W1', quantity: 2 }],
    });
    expect(placed.status).toBe(201);
    const first = Date.parse(placed.body.expiresAt as string);
    await page.goto(`${base}/console/holds?sku=CHERRY`);
    await expect(holdRow('b-ext').locator('time').nth(1).getAttribute('datetime')).resolves.toBe(
      new Date(first).toISOString(),
    );
    await shot('holds');

    const row = holdRow('b-ext');
    await row.locator('input[name="seconds"]').fill('6');
    await row.locator('form[action$="/extend"] input[name="reason"]').fill('3-D Secure challenge');
    await row.locator('button', { hasText: 'Extend' }).click();
    await page.waitForURL(/done=extended/);
    const extendedTo = new Date(first + 6_000).toISOString();
    expect(await page.locator('p.notice').textContent()).toContain('Hold b-ext extended');
    await expect(holdRow('b-ext').locator('time').nth(1).getAttribute('datetime')).resolves.toBe(extendedTo);

    // Past the first expiry (plus a margin for the saga's timer): still held.
    await new Promise((r) => setTimeout(r, Math.max(0, first + 1_500 - Date.now())));
    const midway = await get<{ status: string }>('/orders/b-ext');
    expect(midway.status).toBe('AWAITING_PAYMENT');
    const ended = await eventually(
      () => get<{ status: string; releasedAt?: string }>('/orders/b-ext'),
      (o) => o.status === 'RELEASED',
      30_000,
    );
    expect(Date.parse(ended.releasedAt!)).toBeGreaterThanOrEqual(Date.parse(extendedTo));
  });

  it('Release: the order ends RELEASED and its stock is back', async () => {
    const before = await level(db, 'CHERRY', 'W2');
    const placed = await post('/orders', {
      orderId: 'b-rel',
      userId: 'u-b',
      lines: [{ sku: 'CHERRY', warehouseCode: 'W2', quantity: 3 }],
      holdSeconds: 600,
    });
    expect(placed.status).toBe(201);
    expect((await level(db, 'CHERRY', 'W2')).reserved).toBe(before.reserved + 3);
    await page.goto(`${base}/console/holds`);
    const row = holdRow('b-rel');
    await row.locator('form[action$="/release"] input[name="reason"]').fill('customer called to cancel');
    await row.locator('button', { hasText: 'Release' }).click();
    await page.waitForURL(/done=released/);
    await eventually(
      () => get<{ status: string }>('/orders/b-rel'),
      (o) => o.status === 'RELEASED',
      20_000,
    );
    expect(await level(db, 'CHERRY', 'W2')).toEqual(before);
    await page.goto(`${base}/console/holds`);
    await expect(holdRow('b-rel').count()).resolves.toBe(0);
    await page.goto(`${base}/console/stock/CHERRY`);
    const available = await page.locator('tr[data-level="CHERRY/W2"] td.num').last().textContent();
    const inventory = await get<{ warehouses: { warehouseCode: string; available: number }[] }>('/inventory/CHERRY');
    expect(Number(available)).toBe(inventory.warehouses.find((w) => w.warehouseCode === 'W2')!.available);
    await shot('stock');
  });

  it('during a flash sale, sold and remaining on the sales page follow the API within two refreshes', async () => {
    const now = Date.now();
    const created = await post('/admin/campaigns', {
      id: 'b-sale',
      sku: 'CHERRY',
      warehouseCode: 'W1',
      startsAt: new Date(now - 1_000).toISOString(),
      endsAt: new Date(now + 600_000).toISOString(),
      quota: 20,
      perUserLimit: 5,
    });
    expect(created.status).toBe(201);
    await page.goto(`${base}/console/sales`);
    const cell = (name: string) => page.locator(`tr[data-campaign="b-sale"] td.${name}`);
    await expect(cell('remaining').textContent()).resolves.toBe('20');
    await shot('sales-before');

    const sale = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        post('/campaigns/b-sale/orders', { orderId: `b-fs-${i}`, userId: `u-fs-${i}`, quantity: 2 }),
      ),
    );
    expect(sale.map((s) => s.status)).toEqual(sale.map(() => 201));
    for (let i = 0; i < 4; i++) {
      const signed = signedPayment(SECRET, {
        eventId: `ev-b-fs-${i}`,
        type: 'payment.succeeded',
        orderId: `b-fs-${i}`,
        paymentId: `pay-b-fs-${i}`,
        amountCents: 100,
      });
      expect((await post('/webhooks/payments', signed.payload, signed.headers)).status).toBe(200);
    }
    // The API's word once the paid sagas have confirmed: 8 sold, 4 held, 8 left.
    const api = await eventually(
      () => get<{ sold: number; held: number; remaining: number }>('/admin/campaigns/b-sale'),
      (c) => c.sold === 8,
      30_000,
    );
    expect(api).toMatchObject({ sold: 8, held: 4, remaining: 8 });
    // The page polls every REFRESH_SECONDS: two refreshes (and a second for the round trip).
    const shown = await eventually(
      async () => ({ sold: await cell('sold').textContent(), remaining: await cell('remaining').textContent() }),
      (c) => c.sold === String(api.sold) && c.remaining === String(api.remaining),
      2 * REFRESH_SECONDS * 1000 + 1_000,
    );
    expect(shown).toEqual({ sold: '8', remaining: '8' });
    await expect(cell('held').textContent()).resolves.toBe(String(api.held));
    await shot('sales');
  });

  it('every page renders; screenshots for a person to look at, the overview into docs', async () => {
    for (const [name, url] of [
      ['payments', '/console/payments?state=CONFIRMED'],
      ['alerts', '/console/alerts'],
      ['history', '/console/history?sku=CHERRY'],
      ['reconciliation', '/console/reconciliation'],
      ['overview', '/console'],
    ] as const) {
      const res = await page.goto(`${base}${url}`);
      expect([name, res?.status()]).toEqual([name, 200]);
      await shot(name);
    }
    // The overview refreshed itself by the time of the shot: htmx loaded under the CSP.
    await page.waitForResponse((r) => r.url().endsWith('/console/overview/panel'), { timeout: 5_000 });
    await shot('overview');
    // docs/console-overview.png is refreshed on request only: a test run leaves the checkout clean.
    if (process.env.UPDATE_DOCS_SCREENSHOTS === '1')
      copyFileSync(path.join(SHOTS, 'overview.png'), path.join(ROOT, 'docs', 'console-overview.png'));
    // A phone's width: the pages wrap, the tables scroll sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [name, url] of [
      ['overview-phone', '/console'],
      ['holds-phone', '/console/holds'],
    ] as const) {
      await page.goto(`${base}${url}`);
      const width = await page.evaluate('document.documentElement.scrollWidth');
      expect([name, width]).toEqual([name, 390]);
      await shot(name);
    }
  });
});
