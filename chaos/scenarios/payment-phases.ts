/**
 * Scenario 9's tools: where a saga stood when a payment was delivered, the faults that hold
 * a saga in one ending long enough for payments to land there, and the settlement report.
 */
import Redis from 'ioredis';
import { WorkflowNotFoundError } from '@temporalio/client';
import { orderWorkflowId } from '../../workflows/ids';
import { sleep } from '../client';
import type { Stack } from '../stack';
import type { RowLock } from '../store-probe';

/** The saga endings a payment can land in, as scenario 9 reports them. */
export const Phase = {
  /** Still reserving (the reserve is blocked): it is settled after the outcome. */
  RESERVE: 'reserve',
  /** Hold live: the ordinary confirm. */
  AWAITING: 'awaiting',
  /** Hold past its expiry, its release not committed yet. */
  RELEASE: 'release',
  /** Hold released, saga still running: settling and giving the gate token back. */
  GIVE_BACK: 'give-back',
  /** Refused on the request path: no saga ever runs; PostgreSQL knows the order (a refund). */
  REFUSED: 'after refusal',
  /** The hold not taken yet (its first attempts answered 503 under a locked row). */
  BLOCKED: 'blocked (503)',
  /** Saga over: a late-payment settlement. */
  ENDED: 'after end',
  /** No saga at all (refused by the gate): the payment is kept and settled REFUND_REQUIRED (UNKNOWN_ORDER) after the grace. */
  NO_SAGA: 'no saga',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

/** What the shop knows of the order when it pays: no answer yet, a hold, or a refusal. */
export type Placement = 'pending' | 'held' | 'refused';

/** Whether the order's saga is running; undefined when it never existed. */
export async function sagaRunning(stack: Stack, orderId: string): Promise<boolean | undefined> {
  try {
    return (await stack.temporal.workflow.getHandle(orderWorkflowId(orderId)).describe()).status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return undefined;
    throw err;
  }
}

/**
 * Where the saga stands right now: from Temporal whether it runs at all, from its hold's row
 * in PostgreSQL whether the hold is live, expired or given back, and from the placement
 * answer why it holds nothing. (The status query is no use here: a saga inside a local stock
 * step answers it only after the step.)
 */
export async function phaseOf(stack: Stack, orderId: string, placement: Placement): Promise<Phase> {
  const running = await sagaRunning(stack, orderId);
  if (running === undefined) {
    if (placement === 'refused' && (await knownToPostgres(stack, orderId))) return Phase.REFUSED;
    return placement === 'pending' ? Phase.BLOCKED : placement === 'held' ? Phase.AWAITING : Phase.NO_SAGA;
  }
  if (!running) return Phase.ENDED;
  const row = await stack.probe.holdOf(orderId);
  if (row?.status === 'RESERVED') return row.expiresAt.getTime() > Date.now() ? Phase.AWAITING : Phase.RELEASE;
  switch (placement) {
    case 'pending':
      return Phase.RESERVE;
    default:
      return Phase.GIVE_BACK;
  }
}

/** Whether PostgreSQL decided the order (a hold or a recorded refusal): its payments are settled, never 404. */
export function knownToPostgres(stack: Stack, orderId: string): Promise<boolean> {
  return stack.probe.reserveFenced(orderId);
}

/** CLIENT PAUSE on the suite's own redis-server: every command waits (clients time out) for `ms`. */
export async function pauseRedis(stack: Stack, ms: number): Promise<void> {
  const client = new Redis(stack.redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
  try {
    await client.connect();
    await client.call('CLIENT', 'PAUSE', String(ms), 'ALL');
  } finally {
    client.disconnect();
  }
}

/**
 * Locks one campaign's row `FOR UPDATE` from a separate session of the store's (the probe's);
 * resolves once it is held. The lock goes at `release()` or `ms` later, whichever is first
 * (`released`). Blocked steps fail at the lock wait (3 s on both stores) and are retried.
 */
export function lockCampaignRow(stack: Stack, id: string, ms: number): Promise<RowLock> {
  return stack.probe.lockCampaign(id, ms);
}

/** Runs `fn` at wall-clock time `at` (at once if it has passed). */
export async function at<T>(time: number, fn: () => Promise<T>): Promise<T> {
  await sleep(Math.max(0, time - Date.now()));
  return fn();
}

/** Counts of `keys`, e.g. { 'give-back': 5, 'after end': 2 }, in first-seen order. */
export function tally(keys: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const k of keys) counts.set(k, (counts.get(k) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ');
}
