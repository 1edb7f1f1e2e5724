/**
 * The real stack the chaos suite breaks: its own Temporal dev server (persistent SQLite
 * file), its own redis-server, its own nats-server with JetStream (the worker publishes the
 * events there), the real worker.ts and api/server.ts processes, all on 127.0.0.1 spare ports. It only ever signals the pids it started.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { closeConnection, fencedConnection } from '../platform/temporal';
import { createStockCache } from '../data/cache';
import type { StockCache } from '../data/cache/stock-cache';
import type { Db } from '../data/db';
import { startDevServer, type DevServer } from '../platform/dev-server';
import { searchAttributeKeys } from '../workflows/search-attributes';
import { migrate } from '../prisma/migrate';
import { migrateMysql } from '../prisma/mysql-migrate';
import { connectMariadb } from '../platform/mariadb';
import { asRole } from '../prisma/roles';
import { createDb } from '../data/db';
import { resetDb, testDb } from '../test/helpers/db';
import { TEST_DATABASE_URL, testConfig } from '../test/helpers/env';
import { mariadbProbe, postgresProbe, type Store, type StoreProbe } from './store-probe';
import { freePort, runService, waitForHttp, type Service } from '../platform/processes';
import { startOwnRedis, type OwnRedis } from '../test/helpers/redis-server';
import { startOwnNats, type OwnNats } from '../test/helpers/nats-server';

export const CHAOS_SECRET = 'chaos-webhook-secret';
export const CHAOS_ADMIN_TOKEN = 'chaos-admin-token';
export const CHAOS_TASK_QUEUE = 'chaos';
/** Service processes connect with this application_name: the only backends scenario 6 terminates. */
export const SERVICE_APP_NAME = 'stockhold-chaos-service';
/**
 * TTL of the "short" API, for the scenarios that need holds to expire: long enough for all
 * of a scenario's orders to be placed before the first one expires.
 */
export function shortTtlSeconds(orders: number): number {
  return Math.max(8, Math.ceil(orders / 10));
}

const ROOT = path.resolve(__dirname, '..');

/** The MariaDB database `npm run chaos -- --store mariadb` drops and migrates, unless CHAOS_MARIADB_URL names another. */
export const CHAOS_MARIADB_URL = process.env.CHAOS_MARIADB_URL ?? 'mariadb://root@127.0.0.1:3306/stockhold_mysql_chaos';
/** The service user the migration run creates (prisma/mysql-roles.ts): the processes connect as it. */
export const MARIADB_SERVICE_USER = 'stockhold_app';

/** Which store the stack runs on; for MariaDB, the owner's URL of a database the suite may drop. */
export type StackStore = { readonly store: 'postgresql' } | { readonly store: 'mariadb'; readonly ownerUrl: string };

export interface Stack {
  readonly store: Store;
  /**
   * The service's own data functions on the store, as its owner (fixtures: stock(), loadViews,
   * findDrifts). On MariaDB only what dispatches to data/mariadb answers; raw Prisma throws 501.
   */
  readonly db: Db;
  /** The store's own figures and faults, in its dialect (chaos/store-probe.ts). */
  readonly probe: StoreProbe;
  /** A cache client on the suite's Redis, to compare cache and database. */
  readonly cache: StockCache;
  readonly temporal: Client;
  readonly redis: OwnRedis;
  /** The events' NATS JetStream (stream STOCKHOLD_EVENTS); kill() and start() keep its store. */
  readonly nats: OwnNats;
  readonly temporalAddress: string;
  /**
   * The database settings an in-process app on the stack's store connects with (scenario 8):
   * on PostgreSQL the owner's TEST_DATABASE_URL, on MariaDB the service user's URL with the
   * owner's as MIGRATION_DATABASE_URL, as the service processes.
   */
  readonly appDatabase: Readonly<Record<string, string>>;
  /** API with a long TTL (holds wait for payment) and one with shortTtlSeconds(orders). */
  readonly api: string;
  readonly shortApi: string;
  readonly workerMetrics: string;
  restartWorker(signal: NodeJS.Signals): Promise<void>;
  restartTemporal(): Promise<void>;
  /** Stops the Temporal dev server (its SQLite file stays); `startTemporal` brings it back on the same port. */
  stopTemporal(): Promise<void>;
  startTemporal(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The service's DATABASE_URL: on PostgreSQL tagged with SERVICE_APP_NAME (what scenario 6
 * terminates); on MariaDB the service user's URL (its sessions are what scenario 6 kills there).
 */
function serviceDatabaseUrl(on: StackStore): string {
  if (on.store === 'mariadb') return asRole(on.ownerUrl, MARIADB_SERVICE_USER);
  const url = new URL(TEST_DATABASE_URL);
  url.searchParams.set('application_name', SERVICE_APP_NAME);
  return url.toString();
}

function serviceEnv(
  on: StackStore,
  temporalAddress: string,
  redisUrl: string,
  natsUrl: string,
): Record<string, string> {
  return {
    DATABASE_URL: serviceDatabaseUrl(on),
    ...(on.store === 'mariadb' ? { MIGRATION_DATABASE_URL: on.ownerUrl } : {}),
    REDIS_URL: redisUrl,
    // Events on both stores (MySQL/MariaDB: docs/mysql-events.md): the worker publishes them to the stack's NATS.
    EVENTS_NATS_URL: natsUrl,
    // A killed NATS fails the passes fast; the publisher retries within a second.
    EVENTS_NATS_PUBLISH_TIMEOUT_MS: '2000',
    TEMPORAL_ADDRESS: temporalAddress,
    TEMPORAL_TASK_QUEUE: CHAOS_TASK_QUEUE,
    WEBHOOK_SECRET: CHAOS_SECRET,
    ADMIN_TOKEN: CHAOS_ADMIN_TOKEN,
    LOG_LEVEL: 'error',
    // The suite runs the sweeper and the checker itself, at the moments it needs them.
    SWEEPER_INTERVAL: '1h',
    CACHE_CHECK_INTERVAL: '1h',
    // The sagas must settle every payment themselves: the backstop would hide one they left PENDING.
    PAYMENT_CHECK_INTERVAL: '1h',
    // A signed payment for an order nobody placed (the hostile scenario sends some) is kept and
    // settled REFUND_REQUIRED after this grace: short, so each scenario can see it settled.
    PAYMENT_UNKNOWN_ORDER_GRACE_SECONDS: '2',
    ORDER_RATE_LIMIT_PER_MINUTE: '100000',
    KEY_RATE_LIMIT_PER_MINUTE: '10000000',
  };
}

/** The service processes: one worker and the two APIs, with their addresses. */
async function startServices(env: Record<string, string>, shortTtl: number) {
  const [apiPort, shortPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
  const workerEnv = { ...env, WORKER_METRICS_PORT: String(metricsPort) };
  const apis = [
    runService('api/server.ts', { ...env, PORT: String(apiPort), RESERVATION_TTL_SECONDS: '600' }),
    runService('api/server.ts', { ...env, PORT: String(shortPort), RESERVATION_TTL_SECONDS: String(shortTtl) }),
  ];
  let worker: Service = runService('worker.ts', workerEnv);
  const host = (port: number) => `http://127.0.0.1:${port}`;
  const urls = { api: host(apiPort), shortApi: host(shortPort), workerMetrics: `${host(metricsPort)}/metrics` };
  const stop = async () => {
    await Promise.all(apis.map((a) => a.stop()));
    await worker.stop();
  };
  // A stack that does not come up leaves no process behind.
  await Promise.all(
    [urls.api, urls.shortApi].map((api) => waitForHttp(`${api}/readyz`)).concat(waitForHttp(urls.workerMetrics)),
  ).catch(async (err) => {
    await stop();
    throw err;
  });
  return {
    ...urls,
    async restartWorker(signal: NodeJS.Signals) {
      await worker.stop(signal);
      worker = runService('worker.ts', workerEnv);
      await waitForHttp(urls.workerMetrics);
    },
    stop,
  };
}

/** What an in-process app on the stack's store connects with (Stack.appDatabase). */
function appDatabase(on: StackStore): Record<string, string> {
  if (on.store === 'mariadb') return { DATABASE_URL: serviceDatabaseUrl(on), MIGRATION_DATABASE_URL: on.ownerUrl };
  return { DATABASE_URL: TEST_DATABASE_URL };
}

/** Drops the MariaDB database the suite is about to migrate: only one named for chaos or tests. */
async function dropChaosDatabase(ownerUrl: string): Promise<void> {
  const name = decodeURIComponent(new URL(ownerUrl).pathname.slice(1));
  if (!/^\w*(chaos|test)\w*$/.test(name)) throw new Error(`refusing to drop "${name}": not a chaos or test database`);
  const server = new URL(ownerUrl);
  server.pathname = '/';
  const conn = await connectMariadb(server.toString());
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await conn.end();
  }
}

/** Drops (MariaDB) or empties (PostgreSQL) the stack's database and migrates it; the owner's Db and the probe. */
async function freshStore(on: StackStore): Promise<{ db: Db; probe: StoreProbe }> {
  if (on.store === 'mariadb') {
    const serviceUrl = asRole(on.ownerUrl, MARIADB_SERVICE_USER);
    await dropChaosDatabase(on.ownerUrl);
    await migrateMysql(on.ownerUrl, () => {}, { serviceUrl });
    return {
      db: createDb(on.ownerUrl, { maxConnections: 10 }),
      probe: mariadbProbe(on.ownerUrl, MARIADB_SERVICE_USER),
    };
  }
  await migrate(TEST_DATABASE_URL);
  const db = testDb();
  await resetDb(db);
  return { db, probe: postgresProbe(db, TEST_DATABASE_URL, SERVICE_APP_NAME) };
}

export async function startStack(orders: number, on: StackStore = { store: 'postgresql' }): Promise<Stack> {
  const { db, probe } = await freshStore(on);
  const redis = await startOwnRedis();
  const nats = await startOwnNats();
  const temporalPort = await freePort();
  const dbFile = path.join(ROOT, '.data', 'chaos', `temporal-${process.pid}.db`);
  rmSync(dbFile, { force: true });
  let devServer: DevServer = await startDevServer({
    searchAttributes: searchAttributeKeys,
    port: temporalPort,
    dbFile,
  });
  let devServerDown = false;
  const stopTemporal = async () => {
    devServerDown = true;
    await devServer.stop();
  };
  const startTemporal = async () => {
    if (!devServerDown) return;
    devServer = await startDevServer({ searchAttributes: searchAttributeKeys, port: temporalPort, dbFile });
    devServerDown = false;
  };
  const temporal = new Client({
    connection: await fencedConnection({ address: devServer.address }),
    namespace: 'default',
  });
  const services = await startServices(
    serviceEnv(on, devServer.address, redis.url, nats.url),
    shortTtlSeconds(orders),
  ).catch(async (err) => {
    await closeConnection(temporal.connection);
    await devServer.stop();
    await redis.kill();
    await nats.dispose();
    await probe.close();
    await db.$disconnect();
    throw err;
  });
  const cache = createStockCache(testConfig({ REDIS_URL: redis.url }));
  return {
    store: on.store,
    db,
    probe,
    cache,
    temporal,
    redis,
    nats,
    temporalAddress: devServer.address,
    appDatabase: appDatabase(on),
    api: services.api,
    shortApi: services.shortApi,
    workerMetrics: services.workerMetrics,
    restartWorker: (signal) => services.restartWorker(signal),
    async restartTemporal() {
      await stopTemporal();
      await startTemporal();
    },
    stopTemporal,
    startTemporal,
    async stop() {
      await services.stop();
      await closeConnection(temporal.connection);
      await devServer.stop();
      cache.redis.disconnect();
      await redis.kill();
      await nats.dispose();
      await probe.close();
      await db.$disconnect();
      rmSync(dbFile, { force: true });
    },
  };
}
