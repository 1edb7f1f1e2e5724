/** The API process: builds its dependencies, listens, and closes everything on SIGINT/SIGTERM. */
import { createStockCache, invalidateOnCommit } from '../activities/cache';
import { createGate } from '../activities/gate';
import { createDb } from '../activities/store/db';
import { loadConfig, type Config } from '../config';
import { createMetrics } from '../platform/metrics';
import { createGateRedis } from '../platform/redis';
import { connectClient } from '../platform/temporal';
import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app';
import { createOpsServer } from './plugins/auth';
import type { AppDeps } from './deps';

/** Redis settings (fail fast, bounded, reconnect with backoff) live in platform/redis.ts. */
export async function createDeps(config: Config): Promise<AppDeps> {
  const metrics = createMetrics('api');
  const cache = createStockCache(config, metrics);
  const db = createDb(config.databaseUrl);
  // Admin changes commit stock changes in this process too.
  invalidateOnCommit(db, cache);
  return {
    config,
    db,
    redis: cache.redis,
    cache,
    gate: createGate(createGateRedis(config)),
    temporal: await connectClient(config),
    metrics,
  };
}

export async function closeDeps(deps: AppDeps): Promise<void> {
  await deps.temporal.connection.close();
  deps.redis.disconnect();
  deps.gate.disconnect();
  await deps.db.$disconnect();
}

async function main(): Promise<void> {
  const config = loadConfig();
  const deps = await createDeps(config);
  const app = await buildApp(deps);
  let ops: Server | undefined;
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    await new Promise((resolve) => (ops ? ops.close(resolve) : resolve(undefined)));
    await app.close();
    await closeDeps(deps);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  await app.listen({ host: config.api.host, port: config.api.port });
  if (config.api.ops) ops = await listenOps(app, config.api.ops);
}

/** Listens on the ops port (OPS_PORT): /metrics and /docs without a key, and the probes. */
export async function listenOps(app: FastifyInstance, address: { host: string; port: number }): Promise<Server> {
  const server = createOpsServer(app);
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(address.port, address.host, resolve));
  app.log.info({ ops: server.address() }, 'ops port listening (/metrics, /docs)');
  return server;
}

if (require.main === module) {
  main().catch((err) => {
    console.error('[api] fatal', err);
    process.exit(1);
  });
}
