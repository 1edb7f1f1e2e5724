/**
 * Real Temporal servers for tests, from the project-local binaries (the SDK's own download
 * cannot work here): the time-skipping test server, and the CLI's dev server.
 */
import type { Store } from '../../config';
import { mariadbServiceDb, resetMariadb } from './mariadb';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import {
  bundleWorkflowCode,
  DefaultLogger,
  makeTelemetryFilterString,
  Runtime,
  Worker,
  type WorkflowBundleWithSourceMap,
} from '@temporalio/worker';
import { createActivities, type Activities, type ActivityDeps } from '../../activities';
import { createStockCache, invalidateOnCommit, startCacheRelay } from '../../data/cache';
import type { StockCache } from '../../data/cache/stock-cache';
import { createGate } from '../../data/gate';
import type { Db } from '../../data/db';
import { TEMPORAL_CLI, TEMPORAL_TEST_SERVER } from '../../platform/dev-server';
import { createMetrics, type Metrics } from '../../platform/metrics';
import { ensureSearchAttributes } from '../../use-cases/schedules';
import { workerSinks } from '../../worker';
import { resetDb, testDb } from './db';
import { clearCache } from './cache';
import { testConfig, TEST_STORE } from './env';
import { serviceDbOf, withModelDelegates } from './matrix-db';
import { searchAttributeKeys } from '../../workflows/search-attributes';

// Keep test output to what matters: warnings and errors.
Runtime.install({
  logger: new DefaultLogger('WARN'),
  telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: 'ERROR' }) } },
});

export async function timeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: TEMPORAL_TEST_SERVER } },
  });
  // The test server has no flag for custom search attributes; the operator API works.
  await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

export async function devServerEnv(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: TEMPORAL_CLI }, searchAttributes: searchAttributeKeys },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow bundle, built once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger });
  return bundle;
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } as never;

export interface RunningWorker {
  readonly worker: Worker;
  readonly metrics: Metrics;
  readonly cache: StockCache;
  stop(): Promise<void>;
}

/** Wraps the real activities, e.g. to act at a precise moment of a saga (a payment landing during its release). */
export type ActivityWrap = (activities: Activities) => Activities;

/** A real worker with the real activities on the given database, and its cache relay (as worker.ts runs). */
export async function startWorker(
  env: TestWorkflowEnvironment,
  db: Db,
  taskQueue: string,
  extra: Partial<ActivityDeps> = {},
  wrap: ActivityWrap = (a) => a,
): Promise<RunningWorker> {
  db = serviceDbOf(db);
  const metrics = createMetrics('worker');
  const config = testConfig();
  const cache = createStockCache(config, metrics);
  await clearCache(cache);
  invalidateOnCommit(db, cache);
  const relay = startCacheRelay(db, cache, config, metrics);
  const worker = await Worker.create({
    connection: env.nativeConnection,
    namespace: env.namespace ?? 'default',
    taskQueue,
    workflowBundle: await workflowBundle(),
    activities: wrap(
      createActivities({
        db,
        temporal: env.client,
        metrics,
        cache,
        gate: createGate(cache.redis),
        payments: { taskQueue, ttlSeconds: 60 },
        ...extra,
      }),
    ),
    sinks: workerSinks(metrics),
  });
  const running = worker.run();
  return {
    worker,
    metrics,
    cache,
    stop: async () => {
      worker.shutdown();
      await running;
      await relay.stop();
      cache.redis.disconnect();
    },
  };
}

/** What a test file running sagas gets: a clean database, a Temporal server and a worker. */
export interface SagaStack {
  env: TestWorkflowEnvironment;
  db: Db;
  worker: RunningWorker;
}

/**
 * Registers beforeAll/afterAll that build a {@link SagaStack} on the chosen server and tear
 * it down; the returned object is filled in by the time the tests run. `extra` supplies
 * further activity dependencies (e.g. an alert webhook started by an earlier beforeAll).
 */
export function useSagaStack(
  server: 'time-skipping' | 'dev',
  taskQueue: string,
  extra: () => Partial<ActivityDeps> = () => ({}),
  wrap?: ActivityWrap,
  /** The store the stack runs on: PostgreSQL, or the MariaDB test database (test/helpers/mariadb.ts). */
  store: Store = TEST_STORE,
): SagaStack {
  const stack = {} as SagaStack;
  beforeAll(async () => {
    if (store === 'mariadb') {
      await resetMariadb();
      // The matrix's suites read their fixtures through the model delegates; test/mariadb's use SQL.
      stack.db = store === TEST_STORE ? withModelDelegates(mariadbServiceDb()) : mariadbServiceDb();
    } else {
      stack.db = testDb();
      await resetDb(stack.db);
    }
    stack.env = server === 'dev' ? await devServerEnv() : await timeSkippingEnv();
    stack.worker = await startWorker(stack.env, stack.db, taskQueue, extra(), wrap);
  });
  afterAll(async () => {
    await stack.worker?.stop();
    await stack.env?.teardown();
    await stack.db?.$disconnect();
  });
  return stack;
}
