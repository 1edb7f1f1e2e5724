/**
 * Temporal plumbing shared by the API, the worker and the scripts: the client connection,
 * search-attribute registration and the sweeper schedule.
 */
import { Client, Connection, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import type { Config } from '../config';
import { SWEEPER_SCHEDULE_ID } from '../workflows/ids';
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

/** Creates the sweeper schedule, or brings an existing one in line with the config. */
export async function ensureSweeperSchedule(client: Client, config: Config): Promise<void> {
  const options = {
    scheduleId: SWEEPER_SCHEDULE_ID,
    spec: { intervals: [{ every: config.sweeperInterval as `${number}m` }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: 'sweeperWorkflow',
      taskQueue: config.temporal.taskQueue,
      args: [config.sweeperGraceSeconds],
      workflowId: `${SWEEPER_SCHEDULE_ID}-run`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' as const },
  };
  try {
    await client.schedule.create(options);
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(SWEEPER_SCHEDULE_ID).update((prev) => ({
      ...prev,
      spec: options.spec,
      action: options.action,
      policies: { ...prev.policies, ...options.policies },
    }));
  }
}
