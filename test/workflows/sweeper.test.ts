/**
 * The sweeper backstop and its schedule, on the dev server (the time-skipping server has no
 * schedules): orphaned expired holds are released, holds owned by a live saga are left alone.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { reserveStock } from '../../activities/store/reservations';
import type { Db } from '../../activities/store/db';
import { placeOrder } from '../../api/routes/orders/service';
import { ensureSweeperSchedule } from '../../platform/temporal';
import { SWEEPER_SCHEDULE_ID } from '../../workflows/ids';
import type { SweepResult } from '../../workflows/sweeper';
import { invariantViolations, level, stock } from '../helpers/db';
import { testConfig } from '../helpers/env';
import { useSagaStack } from '../helpers/temporal';

const TASK_QUEUE = 'sweeper-test';
const stack = useSagaStack('dev', TASK_QUEUE);
let env: TestWorkflowEnvironment;
let db: Db;
beforeAll(() => {
  ({ env, db } = stack);
});

it('releases expired holds whose workflow is gone, and only those', async () => {
  await stock(db, 'SW', 'W1', 10);
  const past = new Date(Date.now() - 10 * 60_000).toISOString();
  // An orphan: held, expired, and no workflow (as if its workflow had been terminated).
  await reserveStock(db, { reservationId: 'orphan', orderId: 'orphan', userId: 'u', lines: [{ sku: 'SW', warehouseCode: 'W1', quantity: 3 }], expiresAt: past });
  // A live saga whose hold looks expired in the database must be left to its workflow.
  await placeOrder(env.client, { orderId: 'alive', userId: 'u', lines: [{ sku: 'SW', warehouseCode: 'W1', quantity: 2 }] }, { taskQueue: TASK_QUEUE, ttlSeconds: 600 });
  await db.reservation.update({ where: { id: 'alive' }, data: { expiresAt: new Date(past) } });
  expect(await level(db, 'SW', 'W1')).toEqual({ onHand: 10, reserved: 5 });

  const result = await env.client.workflow.execute('sweeperWorkflow', { taskQueue: TASK_QUEUE, workflowId: 'sweep-1', args: [60] });
  expect(result as SweepResult).toEqual({ examined: 2, released: 1 });
  expect(await level(db, 'SW', 'W1')).toEqual({ onHand: 10, reserved: 2 });
  expect(await db.reservation.findUnique({ where: { id: 'orphan' } })).toMatchObject({ status: 'RELEASED', releaseReason: 'SWEEPER' });
  expect(await db.reservation.findUnique({ where: { id: 'alive' } })).toMatchObject({ status: 'RESERVED' });
  expect(await invariantViolations(db)).toEqual([]);
});

it('the schedule is created once and follows the configured interval', async () => {
  const config = testConfig({ TEMPORAL_TASK_QUEUE: TASK_QUEUE, SWEEPER_INTERVAL: '5m' });
  await ensureSweeperSchedule(env.client, config);
  await ensureSweeperSchedule(env.client, { ...config, sweeperInterval: '2m' });
  const description = await env.client.schedule.getHandle(SWEEPER_SCHEDULE_ID).describe();
  expect(description.spec.intervals?.map((i) => i.every)).toEqual([120_000]);
  expect(description.action).toMatchObject({ type: 'startWorkflow', workflowType: 'sweeperWorkflow', taskQueue: TASK_QUEUE, args: [60] });
});
