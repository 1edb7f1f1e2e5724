/**
 * End to end over HTTP: the real API and worker processes (the same entry points `npm start`
 * runs, connected as the service role), a Temporal dev server, PostgreSQL and Redis, with a short TTL. 100 orders; half are
 * paid through the signed webhook, the rest expire. Afterwards the stock must be exactly
 * what the payments say, the ledger must explain every level, and no hold may be left.
 */
import type { Db } from '../../data/db';
import { startDevServer, type DevServer } from '../../platform/dev-server';
import { searchAttributeKeys } from '../../workflows/search-attributes';
import { eventually, signedPayment } from '../helpers/app';
import { invariantViolations, level, resetDb, stock, testDb } from '../helpers/db';
import { storeUrls, TEST_APP_DATABASE_URL, TEST_REDIS_URL } from '../helpers/env';
import { freePort, runService, waitForHttp, type Service } from '../../platform/processes';

const ORDERS = 100;
/**
 * Long enough that 100 orders and 50 payments are all in before the first hold expires, also on
 * a slow CI machine (at 4 s, a run where placing took longer saw paid orders released first and
 * settled late: a different test).
 */
const TTL_SECONDS = 10;
const SECRET = 'e2e-secret';
/** The shop's key (here the bootstrap key): every request but the signed webhook needs one. */
const KEY = { authorization: 'Bearer e2e-admin-token' };
const get = (url: string) => fetch(url, { headers: KEY });

let db: Db;
let temporal: DevServer;
let api: Service;
let worker: Service;
let base: string;
let serviceEnv: Record<string, string>;

beforeAll(async () => {
  db = testDb();
  await resetDb(db);
  await stock(db, 'BERRY', 'W1', 150);
  await stock(db, 'BERRY', 'W2', 150);
  temporal = await startDevServer({ searchAttributes: searchAttributeKeys, port: await freePort() });
  const apiPort = await freePort();
  const env = (serviceEnv = {
    // The processes connect as the service role, as `npm start` runs them (docs/security.md).
    DATABASE_URL: TEST_APP_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'e2e',
    RESERVATION_TTL_SECONDS: String(TTL_SECONDS),
    WEBHOOK_SECRET: SECRET,
    ADMIN_TOKEN: 'e2e-admin-token',
    PORT: String(apiPort),
    WORKER_METRICS_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
    SAGA_RELAY_GRACE_MS: '1000',
    // In the mariadb jest project: the processes on the MariaDB test database, as its service user.
    ...storeUrls(),
  });
  worker = runService('worker.ts', env);
  api = runService('api/server.ts', env);
  base = `http://127.0.0.1:${apiPort}`;
  await waitForHttp(`${base}/readyz`);
});

afterAll(async () => {
  await api?.stop();
  await worker?.stop();
  await temporal?.stop();
  await db?.$disconnect();
});

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = { 'content-type': 'application/json', ...KEY },
) {
  const res = await fetch(`${base}${path}`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

it('100 orders, half paid, half expired: stock, ledger and holds add up exactly', async () => {
  const ids = Array.from({ length: ORDERS }, (_, i) => `e2e-${i}`);
  const placed = await Promise.all(
    ids.map((orderId, i) =>
      post('/orders', {
        orderId,
        userId: `user-${i % 7}`,
        lines: [{ sku: 'BERRY', warehouseCode: i % 2 ? 'W1' : 'W2', quantity: 1 + (i % 3) }],
      }),
    ),
  );
  expect(placed.map((p) => p.status)).toEqual(ids.map(() => 201));

  const paid = ids.filter((_, i) => i % 2 === 0);
  const payments = await Promise.all(
    paid.map((orderId) => {
      const signed = signedPayment(SECRET, {
        eventId: `ev-${orderId}`,
        type: 'payment.succeeded',
        orderId,
        paymentId: `pay-${orderId}`,
        amountCents: 500,
      });
      return post('/webhooks/payments', signed.payload, signed.headers);
    }),
  );
  expect(payments.map((p) => [p.status, p.body.result])).toEqual(paid.map(() => [200, 'ACCEPTED']));

  // Wait for every saga to end: the paid ones confirm, the rest expire after the TTL.
  const statuses = await eventually(
    () =>
      Promise.all(
        ids.map(async (id) => ((await (await get(`${base}/orders/${id}`)).json()) as { status: string }).status),
      ),
    // Paid → CONFIRMED, unpaid → RELEASED: a paid order seen RELEASED on its way to a late
    // settlement does not end the wait.
    (s) => s.every((x, i) => x === (i % 2 === 0 ? 'CONFIRMED' : 'RELEASED')),
    60_000,
  );
  expect(statuses.filter((s) => s === 'CONFIRMED')).toHaveLength(paid.length);
  expect(statuses.filter((s) => s === 'RELEASED')).toHaveLength(ORDERS - paid.length);

  // Paid orders are the even indexes, all in W2 with quantities 1,3,2,1,3,2,...
  const soldW2 = paid.reduce((sum, _id, k) => sum + 1 + ((2 * k) % 3), 0);
  expect(await level(db, 'BERRY', 'W2')).toEqual({ onHand: 150 - soldW2, reserved: 0 });
  expect(await level(db, 'BERRY', 'W1')).toEqual({ onHand: 150, reserved: 0 });
  expect(await db.reservation.count({ where: { status: 'RESERVED' } })).toBe(0);
  expect(await db.reservation.count({ where: { status: 'CONFIRMED' } })).toBe(paid.length);
  expect(await invariantViolations(db)).toEqual([]);

  const inventory = (await (await get(`${base}/inventory/BERRY`)).json()) as { total: unknown };
  expect(inventory.total).toEqual({
    onHand: 300 - soldW2,
    reserved: 0,
    safetyStock: 0,
    unsellable: 0,
    damaged: 0,
    qualityControl: 0,
    incoming: 0,
    available: 300 - soldW2,
  });
});

it('the API killed between a hold commit and its saga start: the worker relay starts the saga, which closes it', async () => {
  // A second API process that holds back every saga start, so the kill lands in between.
  const port = await freePort();
  const doomed = runService('api/server.ts', { ...serviceEnv, PORT: String(port), SAGA_START_DELAY_MS: '600000' });
  const doomedBase = `http://127.0.0.1:${port}`;
  await waitForHttp(`${doomedBase}/readyz`);
  const res = await fetch(`${doomedBase}/orders`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...KEY },
    body: JSON.stringify({
      orderId: 'orphan-1',
      userId: 'u',
      lines: [{ sku: 'BERRY', warehouseCode: 'W1', quantity: 2 }],
    }),
  });
  expect(res.status).toBe(201);
  await doomed.stop('SIGKILL');
  expect(await db.sagaStart.findUnique({ where: { orderId: 'orphan-1' } })).toMatchObject({ startedAt: null });
  // The relay (SAGA_RELAY_GRACE_MS = 1000 here) starts it; its TTL then releases the hold.
  await eventually(
    () => db.sagaStart.findUnique({ where: { orderId: 'orphan-1' } }),
    (row) => row?.startedAt !== null,
    30_000,
  );
  const state = await eventually(
    async () => ((await (await get(`${base}/orders/orphan-1`)).json()) as { status: string }).status,
    (s) => s === 'RELEASED',
    30_000,
  );
  expect(state).toBe('RELEASED');
  expect(await db.reservation.findUnique({ where: { id: 'orphan-1' } })).toMatchObject({ status: 'RELEASED' });
  expect(await invariantViolations(db)).toEqual([]);
});
