/**
 * `npm start` (after scripts/bootstrap.sh): migrate (as the owner, then the service role's
 * privileges — created locally on first run), seed an empty database, start a
 * Temporal dev server unless TEMPORAL_ADDRESS names one, a nats-server with JetStream (port
 * NATS_PORT, 4223) unless EVENTS_NATS_URL names one, then the worker and the API as
 * child processes (in development the API's ops port is PORT + 1 unless OPS_PORT is set).
 * The addresses are printed once the API answers and the worker polls (docs/start.md).
 *
 * Stopping: SIGINT (Ctrl-C), SIGTERM or SIGHUP, once — repeats are ignored — stops the API
 * and the worker (each drains), then the dev server and NATS, and exits when they have. The children
 * run in process groups of their own, so a terminal's Ctrl-C reaches them only through this
 * process, as one SIGTERM each; if this process dies without stopping them, they stop on
 * their own (--exit-with-parent; the dev server by its parent-death signal on Linux).
 */
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import type { Connection } from '@temporalio/client';
import { createDb } from '../data/db';
import { ConfigError, loadConfig, type Config } from '../config';
import { startDevServer } from '../platform/dev-server';
import { startNatsServer } from '../platform/nats-server';
import { searchAttributeKeys } from '../workflows/search-attributes';
import { createLogger } from '../platform/log';
import { EXIT_WITH_PARENT, exitWithParent } from '../platform/parent-watch';
import { closingNice, lowerPriority } from '../platform/priority';
import { signalGroup, spawnSupervised } from '../platform/processes';
import { allOf, httpProbe, pollerProbe, waitUntilReady } from '../platform/readiness';
import { closeConnection, connectClient } from '../platform/temporal';
import { ensureSearchAttributes } from '../use-cases/schedules';
import { migrate, migrateOptions } from '../prisma/migrate';
import { demoTransfer, seedIfEmpty } from '../prisma/seed';
import { startDemoTransfer } from './demo-transfer';
import { readyIn } from './ready-in';

const ROOT = path.resolve(__dirname, '..');

interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  readonly exited: Promise<void>;
}

/** The processes started so far, and stopping them once, in order. */
class Supervisor {
  private readonly services: Child[] = [];
  private temporal: Child | undefined;
  private nats: Child | undefined;
  private stopping: string | undefined;

  constructor(
    private readonly say: (line: string) => void,
    /** How long the API and the worker get to drain before they are killed. */
    private readonly drainMs: number,
  ) {}

  get isStopping(): boolean {
    return this.stopping !== undefined;
  }

  add(name: string, process: ChildProcess, kind: 'service' | 'temporal' | 'nats'): Child {
    const exited = new Promise<void>((resolve) =>
      process.once('exit', (code, signal) => {
        this.say(`${name} exited (${signal ?? code})`);
        resolve();
      }),
    );
    const child = { name, process, exited };
    if (kind === 'temporal') this.temporal = child;
    else if (kind === 'nats') this.nats = child;
    else {
      this.services.push(child);
      // If a service dies on its own, bring the rest down rather than run half a service.
      void exited.then(() => this.stop(`${name} exited`, 1));
    }
    return child;
  }

  /** The API and the worker (in parallel), then the dev server and NATS; then this process exits. */
  async stop(reason: string, exitCode = 0): Promise<void> {
    if (this.stopping !== undefined) {
      if (reason.startsWith('SIG'))
        this.say(
          `${reason} ignored: already stopping (${this.stopping}); waiting for ${this.running().join(', ') || 'nothing'}`,
        );
      return;
    }
    this.stopping = reason;
    this.say(`stopping (${reason})`);
    await Promise.all(this.services.map((c) => this.end(c, this.drainMs)));
    await Promise.all([this.temporal, this.nats].filter((c) => c !== undefined).map((c) => this.end(c, 10_000)));
    this.say('stopped');
    process.exit(exitCode);
  }

  private running(): string[] {
    return [...this.services, ...(this.temporal ? [this.temporal] : []), ...(this.nats ? [this.nats] : [])]
      .filter((c) => alive(c.process))
      .map((c) => c.name);
  }

  /** One SIGTERM to the child's group; SIGKILL if it has not exited after `graceMs`. */
  private async end(child: Child, graceMs: number): Promise<void> {
    if (!alive(child.process)) return child.exited;
    signalGroup(child.process, 'SIGTERM');
    const timer = setTimeout(() => {
      this.say(`${child.name} still running after ${graceMs} ms: killing it`);
      signalGroup(child.process, 'SIGKILL');
    }, graceMs);
    await child.exited;
    clearTimeout(timer);
  }
}

const alive = (c: ChildProcess) => c.exitCode === null && c.signalCode === null;

function run(script: string, env: NodeJS.ProcessEnv): ChildProcess {
  // stdout/stderr shared: a terminal stays a terminal for them (LOG_FORMAT=auto).
  // No parent-death signal from the kernel: the child watches for itself (--exit-with-parent),
  // so it drains as on SIGTERM, and the same way on every OS.
  return spawnSupervised(process.execPath, ['--import', 'tsx', path.join(ROOT, script), EXIT_WITH_PARENT], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
}

async function main(config: Config, say: (line: string) => void, supervisor: Supervisor): Promise<void> {
  say(
    `migrating ${new URL(config.migrationDatabaseUrl).pathname.slice(1)} as ${decodeURIComponent(new URL(config.migrationDatabaseUrl).username)}`,
  );
  await migrate(config.migrationDatabaseUrl, (line) => say(line), migrateOptions(config));
  // Seeding is setup, done as the owner; the worker and the API connect as the service role.
  const db = createDb(config.migrationDatabaseUrl, { ssl: config.database.ssl });
  const seeded = await seedIfEmpty(db);
  if (seeded) say('seeded demo data (STRAWBERRY-500G, BLUEBERRY-125G, MANGO-1KG, perishable LYCHEE-1KG in lots)');
  await db.$disconnect();

  const env: NodeJS.ProcessEnv = { ...process.env };
  // A browser cannot send a key: in development /docs and /metrics get an ops port of their own.
  if (!env.OPS_PORT && env.NODE_ENV !== 'production') env.OPS_PORT = String(config.api.port + 1);
  let temporalConfig = config;
  let devServerPid: number | undefined;
  const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
  if (!process.env.TEMPORAL_ADDRESS) {
    const port = Number(process.env.TEMPORAL_PORT ?? config.temporal.address.split(':')[1]);
    const dbFile = path.resolve(ROOT, process.env.DATA_DIR ?? '.data', 'temporal.db');
    say(
      `starting Temporal dev server on :${port} (UI :${uiPort}, data in ${path.relative(ROOT, dbFile).startsWith('..') ? dbFile : path.relative(ROOT, dbFile)})`,
    );
    const devServer = await startDevServer({
      searchAttributes: searchAttributeKeys,
      port,
      uiPort,
      dbFile,
      namespace: config.temporal.namespace,
      supervised: true,
      spawned: (child) => supervisor.add('temporal', child, 'temporal'),
    });
    devServerPid = devServer.process.pid;
    env.TEMPORAL_ADDRESS = devServer.address;
    // The dev server is plain: TLS settings are for a TEMPORAL_ADDRESS of your own.
    temporalConfig = {
      ...config,
      temporal: { ...config.temporal, address: devServer.address, tls: undefined, apiKey: undefined },
    };
  }
  // Events to NATS JetStream: a nats-server of our own unless EVENTS_NATS_URL names one.
  let natsUrl = env.EVENTS_NATS_URL?.trim() || undefined;
  let natsPid: number | undefined;
  if (!natsUrl) {
    const port = Number(process.env.NATS_PORT ?? 4223);
    const storeDir = path.resolve(ROOT, process.env.DATA_DIR ?? '.data', 'nats');
    say(
      `starting nats-server with JetStream on :${port} (data in ${path.relative(ROOT, storeDir).startsWith('..') ? storeDir : path.relative(ROOT, storeDir)})`,
    );
    const nats = await startNatsServer({
      port,
      storeDir,
      supervised: true,
      spawned: (child) => supervisor.add('nats', child, 'nats'),
    });
    natsUrl = nats.url;
    natsPid = nats.process.pid;
    env.EVENTS_NATS_URL = natsUrl;
  }
  if (supervisor.isStopping) return;
  const client = await connectClient(temporalConfig);
  if (!devServerPid) await ensureSearchAttributes(client.connection as Connection, config.temporal.namespace);
  if (supervisor.isStopping) return;

  const worker = supervisor.add('worker', run('worker.ts', env), 'service');
  const api = supervisor.add('api', run('api/server.ts', env), 'service');
  // The closing side yields the CPU to the request path under a burst (platform/priority.ts).
  const nice = closingNice();
  lowerPriority(worker.process.pid, nice);
  lowerPriority(devServerPid, nice);
  lowerPriority(natsPid, nice);

  const local = (host: string) => (host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host);
  const childConfig = loadConfig(env);
  const ops = childConfig.api.ops ?? config.api;
  say(
    `starting… worker (pid ${worker.process.pid}) and API (pid ${api.process.pid}); the addresses follow once the API answers and the worker polls`,
  );
  const readyMs = await waitUntilReady(
    [
      httpProbe('api', `http://${local(config.api.host)}:${config.api.port}/readyz`),
      allOf('worker', [
        httpProbe('worker', `http://${local(config.workerHttp.host)}:${config.workerHttp.port}/healthz`),
        pollerProbe('worker', client, config.temporal.taskQueue, `${worker.process.pid}@${os.hostname()}`),
      ]),
    ],
    { progress: (waiting) => say(`starting… waiting for ${waiting}`), cancelled: () => supervisor.isStopping },
  );
  await closeConnection(client.connection);
  say(`${readyIn(readyMs)}: the API answers and the worker polls ${config.temporal.taskQueue}`);
  say(`API        http://${config.api.host}:${config.api.port}`);
  say(
    `API docs   http://${ops.host}:${ops.port}/docs${ops === config.api ? ' (scope ops)' : ' (ops port: /docs, /metrics)'}`,
  );
  if (childConfig.console)
    say(
      `Console    http://${config.api.host}:${config.api.port}/console (sign in with an API key: ops reads, admin acts)`,
    );
  say(apiKeyLine(config));
  if (devServerPid) say(`Temporal UI http://127.0.0.1:${uiPort}`);
  if (childConfig.eventsNats)
    say(
      `NATS       ${natsUrl} (JetStream stream ${childConfig.eventsNats.stream}, subjects ${childConfig.eventsNats.subjectPrefix}.>)`,
    );
  say('Ctrl-C stops everything');
  if (seeded) void putDemoTransferInFlight(temporalConfig, say);
}

/**
 * The key the README's curl examples send. The development default is printed; a key set in
 * the environment is not (it is a secret), and production never prints one.
 */
function apiKeyLine(config: Config): string {
  if (process.env.NODE_ENV === 'production' || process.env.ADMIN_TOKEN)
    return 'API key    ADMIN_TOKEN from the environment (every scope); more keys: npm run keys -- create';
  return `API key    ${config.adminToken}   (development bootstrap key, every scope: -H 'authorization: Bearer ${config.adminToken}')`;
}

/** Once the worker polls, the demo transfer is requested and shipped (a fresh database only). */
async function putDemoTransferInFlight(config: Config, say: (line: string) => void): Promise<void> {
  try {
    const client = await connectClient(config);
    const stage = await client.withDeadline(Date.now() + 60_000, () => startDemoTransfer(client, config));
    say(
      `demo transfer ${demoTransfer.transferId}: ${stage} (receive it: POST /transfers/${demoTransfer.transferId}/receive)`,
    );
    await closeConnection(client.connection);
  } catch (err) {
    say(`demo transfer not started: ${(err as Error).message}`);
  }
}

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  console.error(
    `[start] ${err instanceof ConfigError ? `configuration refused: ${err.message}` : (err as Error).message}`,
  );
  process.exit(1);
}
const log = createLogger('start', config);
const say = (line: string) => log.info(line);
// The API drains within SHUTDOWN_DELAY_MS + SHUTDOWN_TIMEOUT_MS, the worker within its 10 s grace.
const supervisor = new Supervisor(say, config.shutdown.delayMs + config.shutdown.timeoutMs + 15_000);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void supervisor.stop(signal));
// npm killed without passing a signal on (SIGKILL, or SIGHUP, which npm does not forward).
exitWithParent((pid) => void supervisor.stop(`parent ${pid} gone`));
main(config, say, supervisor).catch((err: Error) => {
  log.error(err.message);
  void supervisor.stop('start failed', 1);
});
