/**
 * The service's schedules and search attributes: which workflows Temporal runs on its own
 * (sweeper, perishables check, reconciliation, payment check, cache check) and the attributes
 * an order saga is found by. platform/temporal.ts knows how to keep a schedule; this file
 * knows which ones this service runs, so platform/ imports nothing of workflows/.
 */
import { ScheduleOverlapPolicy, type Client, type Connection } from '@temporalio/client';
import type { Config } from '../config';
import { addMissingSearchAttributes, ensureSchedule, type PeriodicJob } from '../platform/temporal';
import {
  CACHE_CHECK_SCHEDULE_ID,
  EXPIRY_SCHEDULE_ID,
  PAYMENT_CHECK_SCHEDULE_ID,
  RECONCILIATION_SCHEDULE_ID,
  SWEEPER_SCHEDULE_ID,
} from '../workflows/ids';
import { searchAttributeKeys } from '../workflows/search-attributes';

/**
 * Registers the service's search attributes in the namespace when missing. The dev server
 * started by `npm start` already has them (flags); this covers an external server.
 */
export function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  return addMissingSearchAttributes(connection, namespace, searchAttributeKeys);
}

/** The sweeper schedule (expired holds whose workflow is gone). */
export async function ensureSweeperSchedule(client: Client, config: Config): Promise<void> {
  await ensureSchedule(client, config.temporal.taskQueue, {
    scheduleId: SWEEPER_SCHEDULE_ID,
    workflowType: 'sweeperWorkflow',
    every: config.sweeperInterval,
    args: [config.sweeperGraceSeconds],
  });
}

/** Every schedule the service runs: sweeper, perishables check, reconciliation, payment check, cache check. */
export async function ensureSchedules(client: Client, config: Config): Promise<void> {
  await ensureSweeperSchedule(client, config);
  const jobs: PeriodicJob[] = [
    { scheduleId: EXPIRY_SCHEDULE_ID, workflowType: 'expiryWorkflow', every: config.expiryCheckInterval, args: [] },
    {
      scheduleId: RECONCILIATION_SCHEDULE_ID,
      workflowType: 'reconciliationWorkflow',
      every: config.reconcileInterval,
      args: [config.paymentSettleMinutes],
    },
    {
      scheduleId: PAYMENT_CHECK_SCHEDULE_ID,
      workflowType: 'paymentCheckWorkflow',
      every: config.paymentCheckInterval,
      args: [config.paymentSettleMinutes],
    },
    cacheCheckJob(config),
  ];
  for (const job of jobs) await ensureSchedule(client, config.temporal.taskQueue, job);
}

/**
 * Schedules whose first interval is long (an hour by default): a new install would show no
 * alerts, no reconciliation report and no cache check until then. A worker runs each once
 * when it starts.
 */
export const RUN_AT_BOOT = [EXPIRY_SCHEDULE_ID, RECONCILIATION_SCHEDULE_ID, CACHE_CHECK_SCHEDULE_ID] as const;

/**
 * What a worker does with the schedules at boot: creates them or brings them in line with
 * the config, then triggers each of {@link RUN_AT_BOOT} once. A trigger while a run of the
 * same schedule is in progress (several workers starting together) is skipped by the overlap
 * policy, and every one of these jobs is safe to repeat (alerts once per lot and kind, write-
 * offs fenced, reconciliation and the cache check only record a run).
 */
export async function bootSchedules(client: Client, config: Config): Promise<void> {
  await ensureSchedules(client, config);
  for (const scheduleId of RUN_AT_BOOT) await client.schedule.getHandle(scheduleId).trigger(ScheduleOverlapPolicy.SKIP);
}

/** The cache consistency check, every CACHE_CHECK_INTERVAL, with the CACHE_CHECK_* options. */
function cacheCheckJob(config: Config): PeriodicJob {
  const { checkHotPercent, checkSample, checkDriftPercent } = config.cache;
  return {
    scheduleId: CACHE_CHECK_SCHEDULE_ID,
    workflowType: 'cacheCheckWorkflow',
    every: config.cache.checkInterval,
    args: [{ hotPercent: checkHotPercent, sample: checkSample, driftPercent: checkDriftPercent }],
  };
}

export async function ensureCacheCheckSchedule(client: Client, config: Config): Promise<void> {
  await ensureSchedule(client, config.temporal.taskQueue, cacheCheckJob(config));
}
