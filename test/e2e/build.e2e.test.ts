/**
 * The production build (`npm run build`, what the Dockerfile runs): dist/ holds compiled
 * JavaScript that starts with plain `node`, no tsx. The compiled migration runner finds its
 * SQL, the compiled worker runs the workflow bundle built at build time (an order's saga runs
 * on it, and every committed history replays on it), the compiled API answers its probes and
 * takes an order, and both serve /metrics — the worker's store gauges read as the
 * least-privileged service role.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Db } from '../../data/db';
import { startDevServer, type DevServer } from '../../platform/dev-server';
import { searchAttributeKeys } from '../../workflows/search-attributes';
import { freePort, runService, waitForHttp, type Service } from '../../platform/processes';
import { eventually } from '../helpers/app';
import { replayAll } from '../helpers/histories';
import { resetDb, stock, testDb } from '../helpers/db';
import { TEST_APP_DATABASE_URL, TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/env';

const ROOT = path.resolve(__dirname, '../..');
const TOKEN = 'build-e2e-admin-token';
const run = promisify(execFile);

let db: Db;
let temporal: DevServer;
let services: Service[] = [];
let api: string;
let ops: string;
let worker: string;
let migrateOutput: string;

beforeAll(async () => {
  db = testDb(3);
  // The build (tsc + the workflow bundle) and the Temporal server start side by side.
  const [devServer] = await Promise.all([
    startDevServer({ searchAttributes: searchAttributeKeys, port: await freePort() }),
    run(process.execPath, ['--import', 'tsx', 'scripts/build-dist.ts'], { cwd: ROOT, maxBuffer: 16 << 20 }),
  ]);
  temporal = devServer;
  const env = {
    DATABASE_URL: TEST_APP_DATABASE_URL,
    MIGRATION_DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'build-e2e',
    ADMIN_TOKEN: TOKEN,
    LOG_LEVEL: 'warn',
  };
  const migrated = await run(process.execPath, [path.join(ROOT, 'dist/prisma/migrate.js')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  migrateOutput = migrated.stdout + migrated.stderr;
  await resetDb(db);
  await stock(db, 'BUILT', 'W1', 10);
  const [apiPort, opsPort, workerPort] = [await freePort(), await freePort(), await freePort()];
  services = [
    // info: its start lines (which workflow code it runs) are pino info lines.
    runService('dist/worker.js', { ...env, WORKER_METRICS_PORT: String(workerPort), LOG_LEVEL: 'info' }),
    runService('dist/api/server.js', { ...env, PORT: String(apiPort), OPS_PORT: String(opsPort) }),
  ];
  [api, ops, worker] = [apiPort, opsPort, workerPort].map((p) => `http://127.0.0.1:${p}`);
  await Promise.all([waitForHttp(`${api}/readyz`), waitForHttp(`${worker}/healthz`)]).catch((err) => {
    for (const s of services) console.error(s.output());
    throw err;
  });
}, 180_000);

afterAll(async () => {
  await Promise.all(services.map((s) => s.stop()));
  await temporal?.stop();
  await db?.$disconnect();
});

describe('npm run build', () => {
  it('writes compiled entry points, their Lua scripts, the migrations and the workflow bundle', () => {
    for (const file of [
      'dist/worker.js',
      'dist/api/server.js',
      'dist/prisma/migrate.js',
      'dist/prisma/seed.js',
      'dist/workflow-bundle.js',
    ])
      expect(existsSync(path.join(ROOT, file))).toBe(true);
    expect(existsSync(path.join(ROOT, 'dist/test'))).toBe(false);
    expect(migrateOutput).toMatch(/database up to date/);
  });

  it('runs the worker on the prebuilt bundle and the API, both with plain node', async () => {
    for (const s of services) expect(s.child.spawnargs).not.toContain('tsx');
    expect(services[0].output()).toContain(`prebuilt bundle ${path.join(ROOT, 'dist/workflow-bundle.js')}`);
    expect(await (await fetch(`${worker}/healthz`)).json()).toEqual({ status: 'ok', worker: 'RUNNING' });
    expect(await (await fetch(`${api}/healthz`)).json()).toEqual({ status: 'ok' });
  });

  it('takes an order whose saga runs in the compiled worker, and exports the metrics', async () => {
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const placed = await fetch(`${api}/orders`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        orderId: 'built-1',
        userId: 'u1',
        lines: [{ sku: 'BUILT', warehouseCode: 'W1', quantity: 2 }],
      }),
    });
    expect(placed.status).toBe(201);
    // The order view asks the saga: it answers once the worker has run its first workflow task.
    await eventually(
      async () => (await (await fetch(`${api}/orders/built-1`, { headers: auth })).json()) as { status?: string },
      (o) => o.status === 'AWAITING_PAYMENT',
    );

    const apiMetrics = await (await fetch(`${ops}/metrics`)).text();
    expect(apiMetrics).toMatch(/^stockhold_orders_total\{outcome="reserved",process="api"\} 1$/m);
    const workerMetrics = await (await fetch(`${worker}/metrics`)).text();
    expect(workerMetrics).toMatch(/^stockhold_holds_active\{process="worker"\} 1$/m);
    expect(workerMetrics).toMatch(/^stockhold_relay_backlog\{relay="saga",process="worker"\} 0$/m);
  });

  it('replays every committed history on the prebuilt bundle', async () => {
    const { replayed, failures, total } = await replayAll({
      workflowBundle: { codePath: path.join(ROOT, 'dist/workflow-bundle.js') },
    });
    expect(failures).toEqual([]);
    expect(replayed).toBe(total);
  });
});
