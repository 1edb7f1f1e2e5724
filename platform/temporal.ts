/**
 * Temporal plumbing shared by the API, the worker and the scripts: the client connection,
 * search-attribute registration and the schedules (sweeper, cache check).
 */
import { Client, Connection, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import type { Config } from '../config';
import { CACHE_CHECK_SCHEDULE_ID, SWEEPER_SCHEDULE_ID } from '../workflows/ids';
import { searchAttributeKeys } from '../workflows/search-attributes';

export async function connectClient(config: Config): Promise<Client> {
  const connection = await Connection.connect({ address: config.temporal.address });
  return new Client({ connection, namespace: config.temporal.namespace });
}

const GRPC_UNIMPLEMENTED = 12;

const indexedType = {
  KEYWORD: proto.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KEYWORD_LIST: proto.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  DATETIME: proto.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
} as const;

/**
 * Registers the service's search attributes in the namespace when missing. The dev server
 * started by `npm start` already has them (flags); this covers an external server.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  const known = new Set<string>();
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    for (const name of Object.keys(existing.customAttributes ?? {})) known.add(name);
  } catch (err) {
    // The time-skipping test server cannot list, but can add.
    if ((err as { code?: number }).code !== GRPC_UNIMPLEMENTED) throw err;
  }
  const missing = searchAttributeKeys.filter((k) => !known.has(k.name));
  if (missing.length === 0) return;
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(missing.map((k) => [k.name, indexedType[k.type as keyof typeof indexedType]])),
  });
}

/** A schedule the worker keeps in line with the config: one workflow type on an interval. */
interface IntervalSchedule {
  readonly scheduleId: string;
  readonly every: string;
  readonly workflowType: string;
  readonly args: unknown[];
}

/** Creates the schedule, or brings an existing one in line with the config. */
async function ensureIntervalSchedule(client: Client, config: Config, schedule: IntervalSchedule): Promise<void> {
  const options = {
    scheduleId: schedule.scheduleId,
    spec: { intervals: [{ every: schedule.every as `${number}m` }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: schedule.workflowType,
      taskQueue: config.temporal.taskQueue,
      args: schedule.args,
      workflowId: `${schedule.scheduleId}-run`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' as const },
  };
  try {
    await client.schedule.create(options);
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(schedule.scheduleId).update((prev) => ({
      ...prev,
      spec: options.spec,
      action: options.action,
      policies: { ...prev.policies, ...options.policies },
    }));
  }
}

/** The expired-hold sweeper, every SWEEPER_INTERVAL. */
export async function ensureSweeperSchedule(client: Client, config: Config): Promise<void> {
  await ensureIntervalSchedule(client, config, {
    scheduleId: SWEEPER_SCHEDULE_ID,
    every: config.sweeperInterval,
    workflowType: 'sweeperWorkflow',
    args: [config.sweeperGraceSeconds],
  });
}

/** The cache consistency check, every CACHE_CHECK_INTERVAL, with the CACHE_CHECK_* options. */
export async function ensureCacheCheckSchedule(client: Client, config: Config): Promise<void> {
  const { checkHotPercent, checkSample, checkDriftPercent } = config.cache;
  await ensureIntervalSchedule(client, config, {
    scheduleId: CACHE_CHECK_SCHEDULE_ID,
    every: config.cache.checkInterval,
    workflowType: 'cacheCheckWorkflow',
    args: [{ hotPercent: checkHotPercent, sample: checkSample, driftPercent: checkDriftPercent }],
  });
}
