/**
 * `npm start` as a person runs it: the real npm, scripts/start.ts, Temporal dev server, worker
 * and API, on free ports, a database of their own, the test Redis and a temporary data dir.
 *
 *  - the addresses are printed only once the API answers and the worker polls: an order placed
 *    the moment they show is held and its saga is running;
 *  - `kill <pid of npm start>` (SIGTERM) stops every process it started and frees every port;
 *  - Ctrl-C (SIGINT to the terminal's whole process group) reaches the worker as one signal:
 *    it drains once and exits 0;
 *  - if scripts/start.ts dies without stopping them (SIGKILL), its children stop on their own.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../platform/processes';
import { asRole } from '../../prisma/roles';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/env';

const ROOT = path.resolve(__dirname, '..', '..');
const TOKEN = 'start-e2e-admin-token';
const owner = new URL(TEST_DATABASE_URL);
owner.pathname = `${owner.pathname}_npmstart`;
const DATABASE = decodeURIComponent(owner.pathname.slice(1));

let dataDir: string;
let ports: Record<'PORT' | 'OPS_PORT' | 'WORKER_METRICS_PORT' | 'TEMPORAL_PORT' | 'TEMPORAL_UI_PORT', number>;

async function dropDatabase(): Promise<void> {
  const admin = new URL(TEST_DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  await client.end();
}

beforeAll(async () => {
  await dropDatabase();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'stockhold-start-'));
  ports = { PORT: await freePort(), OPS_PORT: await freePort(), WORKER_METRICS_PORT: await freePort(), TEMPORAL_PORT: await freePort(), TEMPORAL_UI_PORT: await freePort() };
});

afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  await dropDatabase();
});

interface Run {
  readonly npm: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Log entries so far (JSON lines; other lines as `{ raw }`). */
  entries(): Array<Record<string, unknown>>;
  waitFor(test: (entry: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

function npmStart(): Run {
  const env: NodeJS.ProcessEnv = { ...process.env, ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])) };
  delete env.TEMPORAL_ADDRESS;
  Object.assign(env, {
    DATA_DIR: dataDir,
    MIGRATION_DATABASE_URL: owner.toString(),
    DATABASE_URL: asRole(owner.toString(), 'stockhold_app'),
    REDIS_URL: TEST_REDIS_URL,
    TEMPORAL_TASK_QUEUE: 'start-e2e',
    ADMIN_TOKEN: TOKEN,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
  });
  // A process group of its own, like a shell's foreground job: the Ctrl-C test signals all of it.
  const npm = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  npm.stdout?.on('data', (b: Buffer) => (text += b.toString()));
  npm.stderr?.on('data', (b: Buffer) => (text += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => npm.once('exit', (code, signal) => resolve({ code, signal })));
  const entries = () =>
    text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          return { raw: line };
        }
      });
  const waitFor = async (test: (entry: Record<string, unknown>) => boolean, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = entries().find(test);
      if (found) return found;
      if (Date.now() > deadline || npm.exitCode !== null) throw new Error(`not logged within ${timeoutMs} ms; output:\n${text.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return { npm, exited, entries, waitFor };
}

const msg = (entry: Record<string, unknown>) => String(entry.msg ?? '');
const isReady = (entry: Record<string, unknown>) => entry.name === 'start' && msg(entry).startsWith('ready in');

/** Every process below `pid` (npm's shell-less chain, the services, their esbuild helpers). */
function descendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number));
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of rows) if (ppid === parent) (found.push(child), walk(child));
  };
  walk(pid);
  return found;
}

/** A pid that still runs (a zombie waiting for its reaper has stopped). */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer().once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

async function allGone(pids: number[], withinMs: number): Promise<{ survivors: number[]; busyPorts: number[] }> {
  const deadline = Date.now() + withinMs;
  let survivors = pids.filter(running);
  while (survivors.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    survivors = pids.filter(running);
  }
  const busyPorts: number[] = [];
  for (const port of Object.values(ports)) if (!(await portFree(port))) busyPorts.push(port);
  return { survivors, busyPorts };
}

it('the addresses show once the API answers and the worker polls: an order placed then is held and its saga runs; SIGTERM to npm stops everything', async () => {
  const run = npmStart();
  await run.waitFor(isReady);
  const base = `http://127.0.0.1:${ports.PORT}`;
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
  const placed = await fetch(`${base}/orders`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ orderId: 'start-e2e-1', userId: 'u-1', lines: [{ sku: 'STRAWBERRY-500G', warehouseCode: 'SH-01', quantity: 1 }] }),
  });
  expect(placed.status).toBe(201);
  // The saga answers its query from the worker at once: no wait for a worker to show up.
  let status = '';
  for (const until = Date.now() + 5_000; status !== 'AWAITING_PAYMENT' && Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
    const res = await fetch(`${base}/orders/start-e2e-1`, { headers });
    status = res.ok ? String(((await res.json()) as { status?: string }).status) : `${res.status}`;
  }
  expect(status).toBe('AWAITING_PAYMENT');
  // The order of the log: the API listened and the worker polled before the addresses.
  const entries = run.entries();
  const ready = entries.findIndex(isReady);
  expect(entries.findIndex((e) => e.name === 'worker' && msg(e).startsWith('polling start-e2e'))).toBeLessThan(ready);
  expect(entries.findIndex((e) => e.name === 'api' && msg(e).startsWith('Server listening'))).toBeLessThan(ready);
  expect(entries.findIndex((e) => e.name === 'start' && msg(e).startsWith('starting…'))).toBeLessThan(ready);
  // The worker's bundle report is debug: not at the default level.
  expect(entries.some((e) => /webpack|Workflow bundle created/.test(msg(e)))).toBe(false);

  const pids = descendants(run.npm.pid!);
  expect(pids.length).toBeGreaterThanOrEqual(4); // start.ts, dev server, worker, API
  process.kill(run.npm.pid!, 'SIGTERM');
  const exit = await run.exited;
  expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
  // npm waited for scripts/start.ts, which waited for its children.
  expect(await allGone(pids, 2_000)).toEqual({ survivors: [], busyPorts: [] });
  expect(run.entries().filter((e) => e.name === 'start' && msg(e) === 'stopped')).toHaveLength(1);
}, 90_000);

it('Ctrl-C (SIGINT to the whole process group): the worker gets one signal, drains once and exits 0', async () => {
  const run = npmStart();
  await run.waitFor(isReady);
  const pids = descendants(run.npm.pid!);
  process.kill(-run.npm.pid!, 'SIGINT');
  await run.exited;
  expect(await allGone(pids, 2_000)).toEqual({ survivors: [], busyPorts: [] });
  const worker = run.entries().filter((e) => e.name === 'worker');
  expect(worker.filter((e) => msg(e).startsWith('draining'))).toHaveLength(1);
  expect(worker.filter((e) => msg(e).startsWith('already shutting down'))).toHaveLength(0);
  expect(worker.some((e) => msg(e) === 'drained and stopped')).toBe(true);
  expect(run.entries().some((e) => e.name === 'start' && msg(e) === 'worker exited (0)')).toBe(true);
}, 90_000);

it('scripts/start.ts killed outright (SIGKILL): the dev server, worker and API stop on their own', async () => {
  const run = npmStart();
  await run.waitFor(isReady);
  const pids = descendants(run.npm.pid!);
  const start = pids.find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('scripts/start.ts'))!;
  process.kill(start, 'SIGKILL');
  // The worker and the API notice within 0.5 s and drain; the dev server gets SIGTERM at once.
  expect(await allGone(pids, 20_000)).toEqual({ survivors: [], busyPorts: [] });
  await run.exited;
}, 90_000);
