/**
 * The cache consistency check as the schedule runs it, on the dev server (the time-skipping
 * server has no schedules): the workflow finds and repairs a lying entry and records the
 * result, which GET /admin/cache/checks serves; the schedule follows the config.
 */
import type { FastifyInstance } from 'fastify';
import type { CacheCheckResult } from '../../domain/reports';
import { cacheKey } from '../../data/cache/stock-cache';
import { ensureCacheCheckSchedule } from '../../use-cases/schedules';
import { CACHE_CHECK_SCHEDULE_ID } from '../../workflows/ids';
import { eventually, testApp } from '../helpers/app';
import { stock } from '../helpers/db';
import { testConfig } from '../helpers/env';
import { useSagaStack } from '../helpers/temporal';

const TASK_QUEUE = 'cache-check-test';
const stack = useSagaStack('dev', TASK_QUEUE);
let app: FastifyInstance;
beforeAll(async () => {
  ({ app } = await testApp(stack.env, stack.db, { TEMPORAL_TASK_QUEUE: TASK_QUEUE }));
});
afterAll(async () => {
  await app?.close();
});

it('the check workflow repairs a lying entry; its result is queryable; admin only', async () => {
  await stock(stack.db, 'CHK', 'W1', 4);
  // The worker's relay applies the receipt's invalidation first (a pending one is not drift).
  await eventually(
    () => stack.db.cacheOutbox.count(),
    (n) => n === 0,
  );
  const read = () => app.inject({ method: 'GET', url: '/inventory/CHK' });
  const truth = (await read()).json();
  // Now cached; make it lie the way the incident's cache did.
  await stack.worker.cache.redis.hset(
    cacheKey('CHK'),
    'd',
    JSON.stringify({ ...truth, total: { ...truth.total, onHand: 99, available: 99 } }),
  );
  expect((await read()).json().total.available).toBe(99);

  const result = (await stack.env.client.workflow.execute('cacheCheckWorkflow', {
    taskQueue: TASK_QUEUE,
    workflowId: 'cache-check-1',
    args: [{ hotPercent: 10, sample: 10, driftPercent: 1 }],
  })) as CacheCheckResult;
  expect(result).toMatchObject({ compared: 1, drifted: 1, rebuilt: true });
  expect((await read()).json()).toEqual(truth);

  expect(
    (await app.inject({ method: 'GET', url: '/admin/cache/checks', headers: { authorization: undefined } })).statusCode,
  ).toBe(401);
  const listed = await app.inject({
    method: 'GET',
    url: '/admin/cache/checks?limit=5',
    headers: { authorization: 'Bearer test-admin-token' },
  });
  expect(listed.statusCode).toBe(200);
  expect(listed.json().checks).toEqual([result]);
  const bad = await app.inject({
    method: 'GET',
    url: '/admin/cache/checks?limit=zero',
    headers: { authorization: 'Bearer test-admin-token' },
  });
  expect(bad.statusCode).toBe(400);
});

it('the schedule is created once and follows the configured interval and options', async () => {
  const config = testConfig({ TEMPORAL_TASK_QUEUE: TASK_QUEUE });
  await ensureCacheCheckSchedule(stack.env.client, config);
  await ensureCacheCheckSchedule(stack.env.client, {
    ...config,
    cache: { ...config.cache, checkInterval: '3m', checkDriftPercent: 2.5 },
  });
  const description = await stack.env.client.schedule.getHandle(CACHE_CHECK_SCHEDULE_ID).describe();
  expect(description.spec.intervals?.map((i) => i.every)).toEqual([180_000]);
  expect(description.action).toMatchObject({
    type: 'startWorkflow',
    workflowType: 'cacheCheckWorkflow',
    taskQueue: TASK_QUEUE,
    args: [{ hotPercent: 10, sample: 100, driftPercent: 2.5 }],
  });
});
