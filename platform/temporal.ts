/**
 * Temporal plumbing shared by the API, the worker and the scripts: the client connection,
 * search-attribute registration and keeping a schedule in line with the config. Which
 * attributes and which schedules this service runs is use-cases/schedules.ts's business:
 * platform/ knows nothing of our workflows.
 */
import { readFileSync } from 'node:fs';
import {
  Client,
  Connection,
  defaultGrpcRetryOptions,
  makeGrpcRetryInterceptor,
  ScheduleAlreadyRunning,
  ScheduleOverlapPolicy,
  type ConnectionLike,
  type ConnectionOptions,
  type TLSConfig,
} from '@temporalio/client';
import { temporal as proto } from '@temporalio/proto';
import type { Config, TemporalConfig } from '../config';

/**
 * How to reach the Temporal frontend: plain (the dev server), TLS (with a private CA), mTLS
 * (TEMPORAL_TLS_CERT_FILE/KEY_FILE, Temporal Cloud's certificates) or an API key over TLS
 * (Temporal Cloud's API keys). Used by the client, the worker's NativeConnection and scripts.
 */
export function temporalConnectionOptions(
  temporal: Pick<TemporalConfig, 'address' | 'tls' | 'apiKey'>,
  address = temporal.address,
): {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
} {
  const { tls, apiKey } = temporal;
  if (!tls) return { address };
  const config: TLSConfig = {
    ...(tls.serverName ? { serverNameOverride: tls.serverName } : {}),
    ...(tls.caFile ? { serverRootCACertificate: readFileSync(tls.caFile) } : {}),
    ...(tls.certFile && tls.keyFile
      ? { clientCertPair: { crt: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) } }
      : {}),
  };
  return { address, tls: Object.keys(config).length > 0 ? config : true, ...(apiKey ? { apiKey } : {}) };
}

/**
 * The client's gRPC retry interceptor retries a failed call from a timer, and
 * `Connection.close()` does not clear that timer: when it fires after the close, grpc-js throws
 * "Channel has been shut down" from the timer, an uncaught exception that kills the process
 * (a known SDK bug; e.g. an API shutting down while a saga start retries an unreachable
 * Temporal). The fence stops new retries once closing and lets the scheduled ones fire (their
 * call then ends) before the channel closes. Every connection the service opens goes through
 * it: {@link fencedConnection}, {@link closeConnection}.
 */
const fences = new WeakMap<ConnectionLike, RetryFence>();

class RetryFence {
  private closing = false;
  /** When the last retry timer that was scheduled fires. */
  private lastRetryAt = 0;

  interceptors(): NonNullable<ConnectionOptions['interceptors']> {
    const defaults = defaultGrpcRetryOptions();
    return [
      makeGrpcRetryInterceptor({
        retryableDecider: (attempt, status) => !this.closing && defaults.retryableDecider(attempt, status),
        delayFunction: (attempt, status) => {
          const delay = defaults.delayFunction(attempt, status);
          this.lastRetryAt = Math.max(this.lastRetryAt, Date.now() + delay);
          return delay;
        },
      }),
    ];
  }

  guard(connection: Connection): Connection {
    fences.set(connection, this);
    return connection;
  }

  async close(connection: ConnectionLike): Promise<void> {
    this.closing = true;
    // A scheduled retry fires at most maxIntervalMs (5 s, jittered) after it was scheduled.
    const wait = this.lastRetryAt + 50 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    await connection.close();
  }
}

/** A Temporal connection, connected now, that {@link closeConnection} closes safely. */
export async function fencedConnection(options: ConnectionOptions): Promise<Connection> {
  const fence = new RetryFence();
  return fence.guard(await Connection.connect({ ...options, interceptors: fence.interceptors() }));
}

/** A Temporal connection that connects on its first call, closed safely by {@link closeConnection}. */
export function lazyConnection(options: ConnectionOptions): Connection {
  const fence = new RetryFence();
  return fence.guard(Connection.lazy({ ...options, interceptors: fence.interceptors() }));
}

/** Closes a connection once no retry of its calls is pending (see RetryFence). */
export async function closeConnection(connection: ConnectionLike): Promise<void> {
  const fence = fences.get(connection);
  await (fence ? fence.close(connection) : connection.close());
}

export async function connectClient(config: Pick<Config, 'temporal'>, address?: string): Promise<Client> {
  const connection = await fencedConnection(temporalConnectionOptions(config.temporal, address));
  return new Client({ connection, namespace: config.temporal.namespace });
}

/**
 * A client that connects on its first call: the API takes holds without Temporal, so it must
 * be able to start (and stay ready) while Temporal is unreachable; saga starts fail over to
 * the outbox relay meanwhile.
 */
export function lazyClient(config: Pick<Config, 'temporal'>): Client {
  return new Client({
    connection: lazyConnection(temporalConnectionOptions(config.temporal)),
    namespace: config.temporal.namespace,
  });
}

const GRPC_UNIMPLEMENTED = 12;

const indexedType = {
  KEYWORD: proto.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KEYWORD_LIST: proto.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  DATETIME: proto.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
} as const;

/** A search attribute by its name and its indexed type. */
export interface SearchAttributeKey {
  readonly name: string;
  readonly type: string;
}

/**
 * Registers search attributes in the namespace when missing. The dev server started by
 * `npm start` already has them (flags); this covers an external server.
 */
export async function addMissingSearchAttributes(
  connection: Connection,
  namespace: string,
  searchAttributeKeys: readonly SearchAttributeKey[],
): Promise<void> {
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

/** A periodic workflow run by a Temporal Schedule. */
export interface PeriodicJob {
  readonly scheduleId: string;
  readonly workflowType: string;
  readonly every: string;
  readonly args: unknown[];
}

/**
 * Creates a schedule, or brings an existing one in line with the config (so changing the
 * interval setting and restarting the worker is all it takes). Overlapping runs are skipped.
 */
export async function ensureSchedule(client: Client, taskQueue: string, job: PeriodicJob): Promise<void> {
  const options = {
    scheduleId: job.scheduleId,
    spec: { intervals: [{ every: job.every as `${number}m` }] },
    action: {
      type: 'startWorkflow' as const,
      workflowType: job.workflowType,
      taskQueue,
      args: job.args,
      workflowId: `${job.scheduleId}-run`,
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1m' as const },
  };
  try {
    await client.schedule.create(options);
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await client.schedule.getHandle(job.scheduleId).update((prev) => ({
      ...prev,
      spec: options.spec,
      action: options.action,
      policies: { ...prev.policies, ...options.policies },
    }));
  }
}
