/** The real API wired to a real Temporal server, PostgreSQL and Redis, for inject() and HTTP tests. */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import type Redis from 'ioredis';
import { createStockCache } from '../../data/cache';
import { createGate } from '../../data/gate';
import type { Db } from '../../data/db';
import { buildApp, type AppOptions } from '../../api/app';
import { signPayload } from '../../platform/webhook-signature';
import { createMetrics } from '../../platform/metrics';
import { createGateRedis } from '../../platform/redis';
import type { ActivityDeps } from '../../activities';
import { ready } from './cache';
import { storeUrls, testConfig, TEST_STORE } from './env';
import { serviceDbOf } from './matrix-db';
import type { Store } from '../../config';
import { useSagaStack, type SagaStack } from './temporal';

/**
 * `sendKey` (default true): every inject() without an Authorization header sends the bootstrap
 * key (ADMIN_TOKEN), so tests about other things need not; the auth tests turn it off.
 */
export async function testApp(
  env: TestWorkflowEnvironment,
  db: Db,
  overrides: Record<string, string>,
  { sendKey = true, logger = false }: { sendKey?: boolean; logger?: AppOptions['logger'] } = {},
): Promise<{ app: FastifyInstance; redis: Redis }> {
  const config = testConfig(overrides);
  const metrics = createMetrics('api');
  const cache = createStockCache(config, metrics);
  const redis = cache.redis;
  await ready(cache);
  const gate = createGate(createGateRedis(config));
  // The gate's own connection: a test starts once it can answer (a real API just sends the
  // first orders down the bounded PostgreSQL path meanwhile).
  await eventually(
    async () => gate.ready(),
    (up) => up,
    10_000,
  );
  const app = await buildApp(
    { config, db: serviceDbOf(db), redis, cache, gate, temporal: env.client, metrics },
    { logger },
  );
  app.addHook('onClose', async () => {
    redis.disconnect();
    gate.disconnect();
  });
  if (sendKey) sendKeyByDefault(app, `Bearer ${config.adminToken}`);
  return { app, redis };
}

/**
 * Adds `authorization` to every inject() that names none; `authorization: undefined` sends
 * none (a request without a key).
 */
function sendKeyByDefault(app: FastifyInstance, authorization: string): void {
  const inject = app.inject.bind(app) as (opts: InjectOptions) => Promise<LightMyRequestResponse>;
  app.inject = ((opts: InjectOptions | string) => {
    const o = typeof opts === 'string' ? { url: opts } : opts;
    const headers: Record<string, string | string[] | undefined> = {
      ...(o.headers as Record<string, string | string[] | undefined>),
    };
    const named = Object.keys(headers).find((h) => h.toLowerCase() === 'authorization');
    if (!named) headers.authorization = authorization;
    else if (headers[named] === undefined) delete headers[named];
    return inject({ ...o, headers });
  }) as FastifyInstance['inject'];
}

/** What a test file driving the API gets: the saga stack plus the app built on it. */
export interface AppStack extends SagaStack {
  app: FastifyInstance;
}

/**
 * Registers beforeAll/afterAll for a {@link SagaStack} on the chosen server and the real API
 * on top of it (task queue and `overrides` as settings); filled in by the time tests run.
 */
export function useAppStack(
  server: 'time-skipping' | 'dev',
  taskQueue: string,
  overrides: Record<string, string> | (() => Record<string, string>) = {},
  extra?: () => Partial<ActivityDeps>,
  /** The store the API and the worker run on (MariaDB: the test database of test/helpers/mariadb.ts). */
  store: Store = TEST_STORE,
): AppStack {
  const stack = useSagaStack(server, taskQueue, extra, undefined, store) as AppStack;
  beforeAll(async () => {
    const settings = typeof overrides === 'function' ? overrides() : overrides;
    ({ app: stack.app } = await testApp(stack.env, stack.db, {
      TEMPORAL_TASK_QUEUE: taskQueue,
      ...storeUrls(store),
      ...settings,
    }));
  });
  afterAll(async () => {
    await stack.app?.close();
  });
  return stack;
}

/** A signed webhook request as the payment provider would send it. */
export function signedPayment(
  secret: string,
  body: Record<string, unknown>,
  timestamp = Math.floor(Date.now() / 1000),
) {
  const payload = JSON.stringify(body);
  return {
    payload,
    headers: {
      'content-type': 'application/json',
      'x-signature-timestamp': String(timestamp),
      'x-signature': signPayload(secret, timestamp, payload),
    },
  };
}

/** Polls `probe` until it returns a value `done` accepts (sagas finish asynchronously). */
export async function eventually<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not reached in ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
