/**
 * What `npm start` waits for before it prints its addresses: the API answers /readyz and the
 * worker polls its task queue (its /healthz says RUNNING and Temporal lists it among the task
 * queue's workflow and activity pollers). Until then an order would be held but its saga
 * would wait for a worker, so the addresses would be a promise the service cannot keep yet.
 */
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { httpNotReady } from './processes';

/** One thing to wait for: `check` resolves undefined when ready, or what it still waits for. */
export interface Probe {
  readonly name: string;
  check(): Promise<string | undefined>;
}

export function httpProbe(name: string, url: string): Probe {
  return { name, check: () => httpNotReady(url, 'GET', 2_000) };
}

/**
 * Temporal's view: a workflow poller and an activity poller on `taskQueue` whose identity is
 * the worker's (`pid@host`, the SDK's default), so a worker that polled before a restart and
 * is still listed for a few minutes does not count.
 */
export function pollerProbe(name: string, client: Client, taskQueue: string, identity: string): Probe {
  const { TaskQueueType, TaskQueueKind } = temporal.api.enums.v1;
  const polled = async (taskQueueType: temporal.api.enums.v1.TaskQueueType) => {
    const res = await client.workflowService.describeTaskQueue({
      namespace: client.options.namespace,
      taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType,
    });
    return (res.pollers ?? []).some((p) => p.identity === identity);
  };
  return {
    name,
    check: async () => {
      try {
        const [workflows, activities] = await Promise.all([
          polled(TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW),
          polled(TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY),
        ]);
        return workflows && activities ? undefined : `not polling ${taskQueue} yet`;
      } catch (err) {
        return `task queue not described: ${(err as Error).message}`;
      }
    },
  };
}

/** Probes in order: a later one is asked only once the earlier ones are ready. */
export function allOf(name: string, probes: readonly Probe[]): Probe {
  return {
    name,
    check: async () => {
      for (const probe of probes) {
        const missing = await probe.check();
        if (missing !== undefined) return missing;
      }
      return undefined;
    },
  };
}

/** How often the probes are asked, and how often the caller is told what is still missing. */
const INTERVAL_MS = 200;
const PROGRESS_EVERY_MS = 3_000;

export interface WaitOptions {
  /** Told what is still missing, at once and then every few seconds. */
  readonly progress?: (waiting: string) => void;
  /** Stops waiting (the caller is shutting down); the promise then never resolves. */
  readonly cancelled?: () => boolean;
}

/** Resolves once every probe is ready, with the milliseconds it took. */
export async function waitUntilReady(probes: readonly Probe[], options: WaitOptions = {}): Promise<number> {
  const started = Date.now();
  let told = 0;
  const pending = new Set(probes);
  for (;;) {
    if (options.cancelled?.()) return new Promise<number>(() => {});
    const missing: string[] = [];
    await Promise.all(
      [...pending].map(async (probe) => {
        const why = await probe.check();
        if (why === undefined) pending.delete(probe);
        else missing.push(`${probe.name}: ${why}`);
      }),
    );
    if (pending.size === 0) return Date.now() - started;
    if (Date.now() - told >= PROGRESS_EVERY_MS) {
      told = Date.now();
      options.progress?.(missing.sort().join('; '));
    }
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS));
  }
}
