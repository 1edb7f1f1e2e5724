/**
 * The whole service on this machine for the benchmark: a scratch database, a Redis index of
 * its own, a Temporal dev server, and the real worker and API processes.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { Client } from '@temporalio/client';
import { closeConnection, fencedConnection } from '../platform/temporal';
import { startDevServer } from '../platform/dev-server';
import { searchAttributeKeys } from '../workflows/search-attributes';
import { lowerPriority } from '../platform/priority';
import { freePort, runService, waitForHttp } from '../platform/processes';
import { recreateDatabase } from '../prisma/migrate';
import { recreateMysqlDatabase } from '../prisma/mysql-migrate';
import { asRole } from '../prisma/roles';
import { isMysqlUrl } from '../platform/mariadb';

/** The service user the API and worker connect as on MariaDB (prisma/mysql-roles.ts's policy). */
const MARIADB_SERVICE_USER = 'stockhold_app';

export interface BenchStack {
  readonly base: string;
  /** Process ids of what the benchmark runs, to account for CPU time per process. */
  readonly pids: Readonly<Record<'api' | 'worker' | 'temporal', number>>;
  readonly databaseUrl: string;
  readonly temporalAddress: string;
  readonly client: Client;
  readonly webhookSecret: string;
  /** The shop's API key header (the bootstrap key), sent with every shopper request. */
  readonly auth: Readonly<Record<'authorization', string>>;
  /** 'mariadb' when the API and worker run on MariaDB (a mysql:// or mariadb:// URL); absent on PostgreSQL. */
  readonly store?: 'mariadb';
  stop(): Promise<void>;
}

export async function startStack(options: {
  ttlSeconds: number;
  databaseUrl: string;
  redisUrl: string;
  profileDir?: string;
  closingNice: number;
}): Promise<BenchStack> {
  // On MariaDB the owner's URL migrates and the API and worker run as the service user, whose
  // grants the migration run brings to the policy (the ledger append-only for it).
  const mariadb = isMysqlUrl(options.databaseUrl);
  const serviceUrl = mariadb ? asRole(options.databaseUrl, MARIADB_SERVICE_USER) : options.databaseUrl;
  if (mariadb) await recreateMysqlDatabase(options.databaseUrl, { serviceUrl });
  else await recreateDatabase(options.databaseUrl);
  if (options.profileDir) {
    rmSync(options.profileDir, { recursive: true, force: true });
    mkdirSync(options.profileDir, { recursive: true });
  }
  const redis = new Redis(options.redisUrl);
  await redis.flushdb();
  redis.disconnect();
  const temporal = await startDevServer({ searchAttributes: searchAttributeKeys, port: await freePort() });
  const apiPort = await freePort();
  const env = {
    DATABASE_URL: serviceUrl,
    ...(mariadb ? { MIGRATION_DATABASE_URL: options.databaseUrl } : {}),
    REDIS_URL: options.redisUrl,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'bench',
    RESERVATION_TTL_SECONDS: String(options.ttlSeconds),
    WEBHOOK_SECRET: 'bench-webhook-secret',
    ADMIN_TOKEN: 'bench-admin-token',
    PORT: String(apiPort),
    WORKER_METRICS_PORT: String(await freePort()),
    LOG_LEVEL: 'warn',
    // Checked on every order (their Redis round trip is in the figures), but out of reach:
    // the whole sale comes through one key, and a shopper may retry more than a real one.
    KEY_RATE_LIMIT_PER_MINUTE: '100000000',
    ORDER_RATE_LIMIT_PER_MINUTE: '1000000',
  };
  // One directory per process: tsx's loader thread writes a profile of its own beside it.
  const profile = (name: string) =>
    options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(options.profileDir, name)}`] : [];
  const worker = runService('worker.ts', env, [], profile('worker'));
  const api = runService('api/server.ts', env, [], profile('api'));
  // As under `npm start`: the closing side yields the CPU to the request path under a burst.
  lowerPriority(temporal.process.pid, options.closingNice);
  lowerPriority(worker.child.pid, options.closingNice);
  const base = `http://127.0.0.1:${apiPort}`;
  await waitForHttp(`${base}/readyz`).catch(async (err) => {
    console.error(`api output:\n${api.output()}\nworker output:\n${worker.output()}`);
    await Promise.all([api.stop(), worker.stop(), temporal.stop()]);
    throw err;
  });
  // 200 once the Temporal worker runs (polls); its log line is info, below LOG_LEVEL here.
  await waitForHttp(`http://127.0.0.1:${env.WORKER_METRICS_PORT}/healthz`);
  const client = new Client({ connection: await fencedConnection({ address: temporal.address }) });
  return {
    base,
    pids: { api: api.child.pid!, worker: worker.child.pid!, temporal: temporal.process.pid! },
    databaseUrl: options.databaseUrl,
    temporalAddress: temporal.address,
    client,
    webhookSecret: env.WEBHOOK_SECRET,
    auth: { authorization: `Bearer ${env.ADMIN_TOKEN}` },
    ...(mariadb ? { store: 'mariadb' as const } : {}),
    stop: async () => {
      await closeConnection(client.connection);
      await api.stop();
      await worker.stop();
      await temporal.stop();
    },
  };
}
