/**
 * Several replicas, over HTTP: two real API processes and a worker (the entry points `npm
 * start` runs) on one PostgreSQL, Redis and Temporal dev server. A key revoked through one
 * replica, or from the shell, is refused by both at once although each caches keys for five
 * minutes here; the order limits are one budget across both; the ops port serves /metrics
 * and /docs and the main port does not; the worker answers /healthz and /metrics on the
 * address it was given.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Db } from '../../data/db';
import { startDevServer, type DevServer } from '../../platform/dev-server';
import { searchAttributeKeys } from '../../workflows/search-attributes';
import { freePort, runService, waitForHttp, type Service } from '../../platform/processes';
import { eventually } from '../helpers/app';
import { resetDb, stock, testDb } from '../helpers/db';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/env';

const BOOTSTRAP = 'e2e-admin-token';
const USER_LIMIT = 5;
const KEY_LIMIT = 12;
const WORKER_HOST = '127.0.0.2';
/** Limit windows outlive a run by up to a minute: this run's users are its own. */
const RUN = Date.now().toString(36);

let db: Db;
let temporal: DevServer;
let services: Service[] = [];
let env: Record<string, string>;
let a: string;
let b: string;
let ops: string;
let worker: string;

beforeAll(async () => {
  db = testDb();
  await resetDb(db);
  await stock(db, 'REPL', 'W1', 1000);
  temporal = await startDevServer({ searchAttributes: searchAttributeKeys, port: await freePort() });
  const [portA, portB, opsPort, workerPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  env = {
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'replicas',
    ADMIN_TOKEN: BOOTSTRAP,
    LOG_LEVEL: 'warn',
    // Only a broadcast can make a replica forget a key this soon.
    API_KEY_CACHE_SECONDS: '300',
    ORDER_RATE_LIMIT_PER_MINUTE: String(USER_LIMIT),
    KEY_RATE_LIMIT_PER_MINUTE: String(KEY_LIMIT),
  };
  services = [
    runService('worker.ts', { ...env, WORKER_METRICS_HOST: WORKER_HOST, WORKER_METRICS_PORT: String(workerPort) }),
    runService('api/server.ts', { ...env, PORT: String(portA), OPS_PORT: String(opsPort) }),
    runService('api/server.ts', { ...env, PORT: String(portB) }),
  ];
  [a, b, ops, worker] = [portA, portB, opsPort]
    .map((p) => `http://127.0.0.1:${p}`)
    .concat(`http://${WORKER_HOST}:${workerPort}`);
  await Promise.all([waitForHttp(`${a}/readyz`), waitForHttp(`${b}/readyz`), waitForHttp(`${worker}/healthz`)]).catch(
    (err) => {
      for (const s of services) console.error(s.output());
      throw err;
    },
  );
});

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await temporal?.stop();
  await db?.$disconnect();
});

async function call(base: string, method: string, url: string, key?: string, body?: unknown) {
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  if (key) headers.authorization = `Bearer ${key}`;
  const res = await fetch(`${base}${url}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch {
    // /metrics, /docs: not JSON
  }
  return { status: res.status, json, text, headers: res.headers };
}

/** `npm run keys -- …` as an operator runs it. */
async function keysCli(...args: string[]): Promise<string> {
  const root = path.resolve(__dirname, '../..');
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/keys.ts', ...args], {
    cwd: root,
    env: { ...process.env, ...env },
  });
  return stdout;
}
const createdKey = (stdout: string) => /key \(shown only now\): (sk_\S+)/.exec(stdout)![1];
const order = (orderId: string, userId: string) => ({
  orderId,
  userId,
  lines: [{ sku: 'REPL', warehouseCode: 'W1', quantity: 1 }],
});
/** Authorized (any answer but 401/403) on both replicas. */
const accepted = async (key: string) =>
  Promise.all([a, b].map(async (base) => (await call(base, 'GET', '/orders/nobody', key)).status));

it('a key revoked through one replica, or from the shell, is refused by both at once', async () => {
  const key = createdKey(await keysCli('create', '--name', 'e2e shop', '--scopes', 'orders', '--expires-in', '1d'));
  expect(await keysCli('list')).toContain(key.slice(3, 19));
  expect(await accepted(key)).toEqual([404, 404]); // known to both, and cached for 5 minutes

  const revoked = await call(a, 'POST', `/admin/keys/${key.slice(3, 19)}/revoke`, BOOTSTRAP);
  expect(revoked.status).toBe(200);
  expect((await call(a, 'GET', '/orders/nobody', key)).status).toBe(401);
  // B hears of it over Redis: far sooner than its 5-minute cache would let it go.
  await eventually(
    async () => (await call(b, 'GET', '/orders/nobody', key)).status,
    (s) => s === 401,
    5_000,
  );

  const other = createdKey(await keysCli('create', '--name', 'e2e shop 2', '--scopes', 'orders'));
  expect(await accepted(other)).toEqual([404, 404]);
  expect(await keysCli('revoke', other.slice(3, 19))).toContain('every API process was told at once');
  await eventually(
    () => accepted(other),
    (s) => s.every((x) => x === 401),
    5_000,
  );
});

it('the order limits are one budget across both replicas: per user, plain and flash-sale', async () => {
  const key = createdKey(await keysCli('create', '--name', 'user-limit', '--scopes', 'orders'));
  const answers = [];
  for (let i = 0; i < USER_LIMIT + 2; i += 1)
    answers.push(await call(i % 2 ? b : a, 'POST', '/orders', key, order(`greedy-${i}`, `greedy-${RUN}`)));
  expect(answers.map((r) => r.status)).toEqual([...Array(USER_LIMIT).fill(201), 429, 429]);
  const refused = answers[USER_LIMIT];
  expect(refused.json).toMatchObject({ code: 'RATE_LIMITED', details: { limit: 'user' } });
  const retryAfter = (refused.json.details as { retryAfter: unknown }).retryAfter;
  expect(typeof retryAfter).toBe('number');
  expect(refused.headers.get('retry-after')).toBe(String(retryAfter));
  // The flash-sale route spends from the same budget (refused before the campaign is even looked up).
  expect(
    (
      await call(b, 'POST', '/campaigns/any/orders', key, {
        orderId: 'greedy-fs',
        userId: `greedy-${RUN}`,
        quantity: 1,
      })
    ).status,
  ).toBe(429);
  expect((await call(a, 'POST', '/orders', key, order('modest-1', `modest-${RUN}`))).status).toBe(201);
});

it('the order limits are one budget across both replicas: per key', async () => {
  const key = createdKey(await keysCli('create', '--name', 'key-limit', '--scopes', 'orders'));
  const statuses = [];
  for (let i = 0; i < KEY_LIMIT + 2; i += 1) {
    const res = await call(i % 2 ? b : a, 'POST', '/orders', key, order(`kl-${i}`, `kl-user-${RUN}-${i}`));
    statuses.push(res.status === 429 ? `429 ${(res.json.details as { limit: string }).limit}` : String(res.status));
  }
  expect(statuses).toEqual([...Array(KEY_LIMIT).fill('201'), '429 key', '429 key']);
});

it('the ops port serves /metrics and /docs without a key; the main port does not serve them', async () => {
  for (const url of ['/metrics', '/docs/json', '/docs']) {
    expect((await call(a, 'GET', url, BOOTSTRAP)).status).toBe(404);
    expect((await call(ops, 'GET', url)).status).toBe(200);
  }
  expect((await call(ops, 'GET', '/metrics')).text).toContain('stockhold_rate_limit_checks_total');
  expect((await call(ops, 'GET', '/healthz')).status).toBe(200);
  expect((await call(ops, 'POST', '/orders', BOOTSTRAP, order('via-ops', 'u'))).status).toBe(404);
  // Without an ops port, /metrics needs the ops scope.
  expect((await call(b, 'GET', '/metrics')).status).toBe(401);
  expect((await call(b, 'GET', '/metrics', BOOTSTRAP)).status).toBe(200);
});

it('the worker answers /healthz and /metrics on the address it was given', async () => {
  expect((await call(worker, 'GET', '/healthz')).json).toEqual({ status: 'ok', worker: 'RUNNING' });
  expect((await call(worker, 'GET', '/metrics')).text).toContain('stockhold_');
  // Bound to WORKER_METRICS_HOST only.
  await expect(fetch(worker.replace(WORKER_HOST, '127.0.0.1'))).rejects.toThrow();
});
