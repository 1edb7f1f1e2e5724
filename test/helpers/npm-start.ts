/**
 * `npm start` under test (test/e2e/start*.e2e.test.ts): the real npm, scripts/start.ts, Temporal
 * dev server, worker and API, on free ports, a database of their own (the test database's name
 * + `_npmstart`), the test Redis and a temporary data dir; JSON logs read back as entries.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { freePort } from '../../platform/processes';
import { asRole } from '../../prisma/roles';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from './env';

export const ROOT = path.resolve(__dirname, '..', '..');
export const TOKEN = 'start-e2e-admin-token';
const owner = new URL(TEST_DATABASE_URL);
owner.pathname = `${owner.pathname}_npmstart`;
const DATABASE = decodeURIComponent(owner.pathname.slice(1));

let dataDir: string;
export let ports: Record<
  'PORT' | 'OPS_PORT' | 'WORKER_METRICS_PORT' | 'TEMPORAL_PORT' | 'TEMPORAL_UI_PORT' | 'NATS_PORT',
  number
>;

async function dropDatabase(): Promise<void> {
  const admin = new URL(TEST_DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  await client.end();
}

/** Call from the test file's beforeAll / afterAll. */
export async function setUp(): Promise<void> {
  await dropDatabase();
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'stockhold-start-'));
  ports = {
    PORT: await freePort(),
    OPS_PORT: await freePort(),
    WORKER_METRICS_PORT: await freePort(),
    TEMPORAL_PORT: await freePort(),
    TEMPORAL_UI_PORT: await freePort(),
    NATS_PORT: await freePort(),
  };
}

export async function tearDown(): Promise<void> {
  // A failed test may leave its run up: nothing of it may outlive the file.
  for (const pid of leftovers.flatMap((run) => [...descendants(run.npm.pid!), run.npm.pid!])) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
  await dropDatabase();
}

export interface Run {
  readonly npm: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Log entries so far (JSON lines; other lines as `{ raw }`). */
  entries(): Array<Record<string, unknown>>;
  waitFor(test: (entry: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Runs `check`; a failure carries the end of the output, so it says what happened. */
  explained(check: () => Promise<void>): Promise<void>;
}

const leftovers: Run[] = [];

export function npmStart(): Run {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...Object.fromEntries(Object.entries(ports).map(([k, v]) => [k, String(v)])),
  };
  delete env.TEMPORAL_ADDRESS;
  delete env.EVENTS_NATS_URL;
  Object.assign(env, {
    DATA_DIR: dataDir,
    MIGRATION_DATABASE_URL: owner.toString(),
    DATABASE_URL: asRole(owner.toString(), 'stockhold_app'),
    REDIS_URL: TEST_REDIS_URL,
    TEMPORAL_TASK_QUEUE: 'start-e2e',
    ADMIN_TOKEN: TOKEN,
    LOG_FORMAT: 'json',
    LOG_LEVEL: 'info',
    // The worker's bundling at the default nice 10 waits behind whatever else the machine runs.
    CLOSING_NICE: '0',
  });
  // A process group of its own, like a shell's foreground job: the Ctrl-C test signals all of it.
  const npm = spawn('npm', ['start'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  npm.stdout?.on('data', (b: Buffer) => (text += b.toString()));
  npm.stderr?.on('data', (b: Buffer) => (text += b.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    npm.once('exit', (code, signal) => resolve({ code, signal })),
  );
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
      if (Date.now() > deadline || npm.exitCode !== null)
        throw new Error(`not logged within ${timeoutMs} ms; output:\n${text.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const explained = async (check: () => Promise<void>) => {
    try {
      await check();
    } catch (err) {
      (err as Error).message += `\n--- npm start output (end) ---\n${text.slice(-8000)}`;
      throw err;
    }
  };
  const run = { npm, exited, entries, waitFor, explained };
  leftovers.push(run);
  return run;
}

export const msg = (entry: Record<string, unknown>) => String(entry.msg ?? '');
export const isReady = (entry: Record<string, unknown>) => entry.name === 'start' && msg(entry).startsWith('ready in');

/** Every process below `pid` (npm's shell-less chain, the services, their esbuild helpers). */
export function descendants(pid: number): number[] {
  const rows = execFileSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number));
  const found: number[] = [];
  const walk = (parent: number) => {
    for (const [child, ppid] of rows) {
      if (ppid !== parent) continue;
      found.push(child);
      walk(child);
    }
  };
  walk(pid);
  return found;
}

/** A pid that still runs (a zombie waiting for its reaper has stopped). */
export function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '(gone)';
  }
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer().once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

export async function allGone(pids: number[], withinMs: number): Promise<{ survivors: string[]; busyPorts: number[] }> {
  const deadline = Date.now() + withinMs;
  while (pids.some(running) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const survivors = pids.filter(running).map((pid) => `${pid} ${commandLine(pid)}`);
  const busyPorts: number[] = [];
  for (const port of Object.values(ports)) if (!(await portFree(port))) busyPorts.push(port);
  return { survivors, busyPorts };
}
