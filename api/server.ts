/** The API process: builds its dependencies, listens, and closes everything on SIGINT/SIGTERM. */
import { createStockCache, invalidateOnCommit } from '../activities/cache';
import { createGate } from '../activities/gate';
import { createDb } from '../activities/store/db';
import { loadConfig, type Config } from '../config';
import { createMetrics } from '../platform/metrics';
import { createGateRedis } from '../platform/redis';
import { connectClient } from '../platform/temporal';
import { buildApp } from './app';
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
  // A deployed API always runs beside a worker and its relay: a start queued past the relay's
  // grace is the relay's, so the two never start the same saga twice under a backlog.
  app.holds.starter.handOffMs = config.sagaRelayGraceMs;
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    await app.close();
    await closeDeps(deps);
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  await app.listen({ host: config.api.host, port: config.api.port });
}

if (require.main === module) {
  main().catch((err) => {
    console.error('[api] fatal', err);
    process.exit(1);
  });
}
