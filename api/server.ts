/**
 * The API process: builds its dependencies, listens, and drains on SIGTERM/SIGINT:
 *
 *  1. /readyz answers 503 at once (the load balancer stops sending), requests are still served
 *     for SHUTDOWN_DELAY_MS (the time the balancer takes to notice);
 *  2. the listener closes; in-flight requests finish (new ones on kept-alive connections get
 *     503 and `connection: close`); sagas of answered holds are started (else the worker's
 *     relay starts them from the outbox);
 *  3. connections close and the process exits 0 — or 1 if SHUTDOWN_DELAY_MS +
 *     SHUTDOWN_TIMEOUT_MS passed first (whatever was still open is cut; nothing that was
 *     answered 2xx is lost: holds commit before their answer, sagas have the outbox).
 */
import { createStockCache, invalidateOnCommit } from '../data/cache';
import { createGate } from '../data/gate';
import { createDb, dbOptions } from '../data/db';
import type { FastifyInstance } from 'fastify';
import { ConfigError, loadConfig, type Config } from '../config';
import { createMetrics } from '../platform/metrics';
import { createGateRedis } from '../platform/redis';
import { exitWithParent, startedToExitWithParent } from '../platform/parent-watch';
import { closeConnection, lazyClient } from '../platform/temporal';
import type { Server } from 'node:http';
import { buildApp } from './app';
import { createOpsServer } from './plugins/auth';
import type { AppDeps } from './deps';

/** Redis settings (fail fast, bounded, reconnect with backoff) live in platform/redis.ts. */
export async function createDeps(config: Config): Promise<AppDeps> {
  const metrics = createMetrics('api');
  const cache = createStockCache(config, metrics);
  const db = createDb(config.databaseUrl, dbOptions(config));
  // Admin changes commit stock changes in this process too.
  invalidateOnCommit(db, cache);
  return {
    config,
    db,
    redis: cache.redis,
    cache,
    gate: createGate(createGateRedis(config)),
    // Connected on first use: the API starts, and takes holds, while Temporal is unreachable.
    temporal: lazyClient(config),
    metrics,
  };
}

export async function closeDeps(deps: AppDeps): Promise<void> {
  await closeConnection(deps.temporal.connection);
  deps.redis.disconnect();
  deps.gate.disconnect();
  await deps.db.$disconnect();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Steps 1–3 above; resolves with whether everything finished in time (the caller exits). */
export async function drain(app: FastifyInstance, deps: AppDeps, settings: Config['shutdown']): Promise<boolean> {
  const deadline = Date.now() + settings.delayMs + settings.timeoutMs;
  app.lifecycle.draining = true;
  await sleep(settings.delayMs);
  // Connections that turn idle once their request is answered are closed as they do, so the
  // listener's close does not wait for keep-alive timeouts.
  const sweep = setInterval(() => app.server.closeIdleConnections(), 50);
  const closed = app.close().then(() => true);
  const inTime = await Promise.race([closed, sleep(Math.max(0, deadline - Date.now())).then(() => false)]);
  clearInterval(sweep);
  if (!inTime) return false;
  // Saga starts of holds answered just before: a few ms each; the relay has any left.
  while (app.holds.starter.pending > 0 && Date.now() < deadline) await sleep(20);
  await Promise.race([closeDeps(deps), sleep(Math.max(0, deadline - Date.now()))]);
  return Date.now() <= deadline;
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(`[api] configuration refused: ${err.message}`);
    process.exit(1);
  }
  const deps = await createDeps(config);
  const app = await buildApp(deps);
  // A deployed API always runs beside a worker and its relay: a start queued past the relay's
  // grace is the relay's, so a backlog is not started twice over (a start is idempotent: an
  // overlap at the boundary costs one refused call).
  app.holds.starter.handOffMs = config.sagaRelayGraceMs;
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal, ...config.shutdown }, 'draining: not ready, finishing in-flight requests');
    // Whatever happens inside, the process is gone by the deadline.
    const hard = setTimeout(
      () => {
        app.log.error('drain deadline passed; exiting with requests still open');
        process.exit(1);
      },
      config.shutdown.delayMs + config.shutdown.timeoutMs + 500,
    );
    hard.unref();
    const inTime = await drain(app, deps, config.shutdown).catch((err) => {
      app.log.error({ err }, 'drain failed');
      return false;
    });
    if (inTime) app.log.info('drained');
    else app.log.error('drain deadline passed; exiting with requests still open');
    process.exit(inTime ? 0 : 1);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGHUP', () => void shutdown('SIGHUP'));
  if (startedToExitWithParent()) exitWithParent();
  await app.listen({ host: config.api.host, port: config.api.port });
  // Open until the process exits: metrics stay scrapable while it drains.
  if (config.api.ops) await listenOps(app, config.api.ops);
}

/** Listens on the ops port (OPS_PORT): /metrics and /docs without a key, and the probes. */
export async function listenOps(app: FastifyInstance, address: { host: string; port: number }): Promise<Server> {
  const server = createOpsServer(app);
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(address.port, address.host, resolve),
  );
  app.log.info({ ops: server.address() }, 'ops port listening (/metrics, /docs)');
  return server;
}

if (require.main === module) {
  main().catch((err) => {
    console.error('[api] fatal', err);
    process.exit(1);
  });
}
