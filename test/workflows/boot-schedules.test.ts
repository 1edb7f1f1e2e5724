/**
 * A new install shows its features at once: when a worker starts (bootSchedules, what
 * worker.ts runs), the perishables check, reconciliation and cache check run once, instead of
 * an interval (an hour) later — so /alerts has the near-expiry lots and GET
 * /admin/reconciliation has a report right away.
 */
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../data/db';
import { bootSchedules } from '../../use-cases/schedules';
import { eventually, useAppStack } from '../helpers/app';
import { perishable, receiveLot, stock } from '../helpers/db';
import { testConfig } from '../helpers/env';

const TASK_QUEUE = 'boot-schedules-test';
const ADMIN = { authorization: 'Bearer test-admin-token' };
const stack = useAppStack('dev', TASK_QUEUE);
let db: Db;
let app: FastifyInstance;
beforeAll(async () => {
  ({ db, app } = stack);
  await stock(db, 'BOOT-APPLE', 'W1', 5);
  await perishable(db, 'BOOT-BERRY', 3, 1);
  await receiveLot(db, 'BOOT-BERRY', 'W1', 'NEAR', 4, 2); // past its alert date
});

it('runs the perishables check, reconciliation and cache check once at boot (hourly schedules)', async () => {
  const get = (url: string) => app.inject({ method: 'GET', url, headers: ADMIN });
  expect((await get('/admin/reconciliation')).statusCode).toBe(404);

  await bootSchedules(
    stack.env.client,
    testConfig({
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      EXPIRY_CHECK_INTERVAL: '1h',
      RECONCILE_INTERVAL: '1h',
      CACHE_CHECK_INTERVAL: '1h',
    }),
  );

  const report = await eventually(
    () => get('/admin/reconciliation'),
    (r) => r.statusCode === 200,
  );
  expect(report.json()).toMatchObject({ clean: true });
  const alerts = await eventually(
    async () => (await app.inject({ method: 'GET', url: '/alerts?kind=NEAR_EXPIRY' })).json().alerts,
    (a: unknown[]) => a.length > 0,
  );
  expect(alerts).toEqual([expect.objectContaining({ sku: 'BOOT-BERRY', lotCode: 'NEAR' })]);
  await eventually(
    () => db.cacheCheck.count(),
    (n) => n > 0,
  );

  // A second worker starting at once: the schedules stay as they are and nothing runs twice at the same time.
  await bootSchedules(stack.env.client, testConfig({ TEMPORAL_TASK_QUEUE: TASK_QUEUE }));
  await eventually(
    async () => (await get('/admin/reconciliation')).statusCode,
    (s) => s === 200,
  );
  const described = await stack.env.client.schedule.getHandle('stockhold-reconciliation').describe();
  expect(described.info.runningActions.length).toBeLessThanOrEqual(1);
});
