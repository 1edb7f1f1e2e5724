/**
 * Webhook delivery (issue 18 item 3), the story of one subscription's next step: the retry at
 * the head of its line when it is due, else the next events after its cursor, in position
 * order, one at a time. A 2xx moves the cursor; a failure records the event as RETRYING and
 * the line waits for its backoff (order holds: nothing after it is sent first); retries
 * exhausted or a 410 make it DEAD, move the cursor past it and disable the subscription with
 * a WEBHOOK_DISABLED alert. The clock and the randomness are injected (tests drive a fake
 * clock through a day of retries in milliseconds).
 */
import {
  disableSubscription,
  eventAt,
  getDelivery,
  moveCursor,
  nextEvents,
  pendingRetry,
  recordAttempt,
  type DeliveryRecord,
  type LeasedSubscription,
  type OutgoingEvent,
} from '../data/events';
import type { Db } from '../data/db';
import { judgeAttempt, type AttemptAnswer, type Verdict } from '../domain/event-subscriptions';
import { outboundRefusal, type OutboundPolicy } from '../platform/outbound-address';
import { webhookHeaders } from '../platform/standard-webhooks';
import { sendWebhook, type WebhookResponse, type WebhookSender } from '../platform/webhook-client';
import type { Metrics } from '../platform/metrics';
import type { Config } from '../config';

/** What a delivery reports as it goes (platform/metrics.ts's event-webhook metrics in the worker). */
export interface DeliveryObserver {
  attempted(subscriptionId: string, outcome: string, seconds: number): void;
  /** After each step: events positioned after the cursor, and how old the last delivered event was when it arrived. */
  progress(subscriptionId: string, backlog: number, lagSeconds?: number): void;
}

export interface WebhookDeliveryDeps {
  readonly db: Db;
  readonly send: WebhookSender;
  readonly now: () => number;
  readonly random: () => number;
  readonly policy: OutboundPolicy;
  readonly timeoutMs: number;
  readonly retryScheduleMs: readonly number[];
  /** Events one step reads after the cursor. */
  readonly batch?: number;
  /** A step starts no new send after this long (real time), so it ends well within its loop's lease. */
  readonly stepBudgetMs?: number;
  readonly observer?: DeliveryObserver;
}

/** What a step asks of its loop: run again after `waitMs`, or stop (the subscription was disabled). */
export type StepResult = { readonly waitMs: number } | { readonly stop: true };

/** How long a loop with nothing to send waits before it looks again (its own poll interval applies too). */
const NOTHING_TO_DO = Number.POSITIVE_INFINITY;

/** Signs and sends one event to a subscription's URL now; the verdict and what the receiver said. */
export async function attemptDelivery(
  deps: WebhookDeliveryDeps,
  sub: Pick<LeasedSubscription, 'id' | 'url' | 'secret' | 'previousSecret' | 'previousSecretUntil'>,
  event: OutgoingEvent,
  attempt: number,
): Promise<{ verdict: Verdict; response?: WebhookResponse; error?: string }> {
  const refusal = await outboundRefusal(sub.url, deps.policy);
  if (refusal) {
    const answer: AttemptAnswer = { kind: 'refused' };
    deps.observer?.attempted(sub.id, 'refused', 0);
    return { verdict: judgeAttempt(answer, attempt, deps.retryScheduleMs, deps.random), error: `refused: ${refusal}` };
  }
  const now = deps.now();
  const secrets = [
    sub.secret,
    ...(sub.previousSecret && sub.previousSecretUntil && sub.previousSecretUntil.getTime() > now
      ? [sub.previousSecret]
      : []),
  ];
  const headers = webhookHeaders(secrets, event.eventId, Math.floor(now / 1000), event.body);
  const response = await deps.send({ url: sub.url, body: event.body, headers, timeoutMs: deps.timeoutMs });
  const verdict = judgeAttempt(response, attempt, deps.retryScheduleMs, deps.random);
  deps.observer?.attempted(sub.id, verdict.outcome, response.ms / 1000);
  return { verdict, response, error: response.kind === 'failed' ? response.error : undefined };
}

/** One step of a subscription's loop (the dispatcher holds its lease); `stopping` ends it between two sends. */
export async function deliverStep(
  deps: WebhookDeliveryDeps,
  sub: LeasedSubscription,
  stopping?: AbortSignal,
): Promise<StepResult> {
  const { db } = deps;
  const retry = await pendingRetry(db, sub.id);
  if (retry) {
    const wait = (retry.nextAttemptAt?.getTime() ?? 0) - deps.now();
    if (wait > 0) return { waitMs: wait };
    const event = await eventAt(db, retry.position);
    if (!event) return { waitMs: NOTHING_TO_DO };
    return settle(deps, sub, event, retry.attempts + 1, sub.cursor);
  }
  const { events, scannedTo, head } = await nextEvents(db, sub.id, sub.cursor, deps.batch ?? 100);
  let cursor = sub.cursor;
  const started = performance.now();
  for (const event of events) {
    if (stopping?.aborted || performance.now() - started > (deps.stepBudgetMs ?? Number.POSITIVE_INFINITY)) {
      deps.observer?.progress(sub.id, Number(head - cursor));
      return { waitMs: 0 };
    }
    const result = await settle(deps, sub, event, 1, cursor);
    if ('stop' in result || result.waitMs > 0) {
      deps.observer?.progress(sub.id, Number(head - cursor));
      return result;
    }
    cursor = event.position;
    deps.observer?.progress(sub.id, Number(head - cursor), (deps.now() - event.time.getTime()) / 1000);
  }
  if (events.length === 0 && scannedTo > cursor && (await moveCursor(db, sub.id, cursor, scannedTo)))
    cursor = scannedTo;
  deps.observer?.progress(sub.id, Number(head - cursor));
  return { waitMs: scannedTo < head ? 0 : NOTHING_TO_DO };
}

/** Sends `event` (attempt `attempt`) and applies the verdict; the cursor moves from `cursor` on success or DEAD. */
async function settle(
  deps: WebhookDeliveryDeps,
  sub: LeasedSubscription,
  event: OutgoingEvent,
  attempt: number,
  cursor: bigint,
): Promise<StepResult> {
  const { db } = deps;
  const { verdict, response, error } = await attemptDelivery(deps, sub, event, attempt);
  const at = new Date(deps.now());
  const lastStatus = response?.kind === 'answered' ? response.status : null;
  const record = {
    subscriptionId: sub.id,
    position: event.position,
    eventId: event.eventId,
    attempts: attempt,
    lastStatus,
    lastError: error ?? null,
    at,
  };
  switch (verdict.next) {
    case 'done':
      if (attempt > 1) await recordAttempt(db, { ...record, status: 'DELIVERED', nextAttemptAt: null });
      // A replay that moved the cursor meanwhile wins: the loop reads it at its next step.
      return { waitMs: (await moveCursor(db, sub.id, cursor, event.position)) ? 0 : 1 };
    case 'retry':
      await recordAttempt(db, {
        ...record,
        status: 'RETRYING',
        nextAttemptAt: new Date(at.getTime() + verdict.delayMs),
      });
      return { waitMs: verdict.delayMs };
    case 'dead':
    case 'gone':
      await recordAttempt(db, { ...record, status: 'DEAD', nextAttemptAt: null });
      await moveCursor(db, sub.id, cursor, event.position);
      await disableSubscription(db, sub.id, verdict.next === 'gone' ? 'GONE' : 'FAILING', at, {
        position: event.position.toString(),
        eventId: event.eventId,
        attempts: attempt,
        lastStatus,
        lastError: error ?? null,
      });
      return { stop: true };
  }
}

/**
 * Sends a DEAD (or RETRYING) delivery again now, by request (POST …/deliveries/:position/retry):
 * DELIVERED on a 2xx, otherwise it stays as it was with one more attempt counted. The
 * subscription's cursor and status are not touched. Undefined when there is no such record.
 */
export async function retryDelivery(
  deps: WebhookDeliveryDeps,
  sub: Pick<LeasedSubscription, 'id' | 'url' | 'secret' | 'previousSecret' | 'previousSecretUntil'>,
  position: bigint,
): Promise<DeliveryRecord | undefined> {
  const { db } = deps;
  const record = await getDelivery(db, sub.id, position);
  const event = await eventAt(db, position);
  if (!record || !event) return undefined;
  const { verdict, response, error } = await attemptDelivery(deps, sub, event, record.attempts + 1);
  await recordAttempt(db, {
    subscriptionId: sub.id,
    position,
    eventId: record.eventId,
    status: verdict.next === 'done' ? 'DELIVERED' : record.status,
    attempts: record.attempts + 1,
    nextAttemptAt: record.nextAttemptAt,
    lastStatus: response?.kind === 'answered' ? response.status : null,
    lastError: error ?? null,
    at: new Date(deps.now()),
  });
  return getDelivery(db, sub.id, position);
}

/** The observer that feeds the worker's event-webhook metrics. */
export function metricsObserver(
  metrics: Pick<Metrics, 'eventWebhookAttempts' | 'eventWebhookLatency' | 'eventWebhookBacklog' | 'eventWebhookLag'>,
): DeliveryObserver {
  return {
    attempted: (subscription, outcome, seconds) => {
      metrics.eventWebhookAttempts.inc({ subscription, outcome });
      if (outcome !== 'refused') metrics.eventWebhookLatency.observe({ subscription }, seconds);
    },
    progress: (subscription, backlog, lagSeconds) => {
      metrics.eventWebhookBacklog.set({ subscription }, Math.max(0, backlog));
      if (lagSeconds !== undefined) metrics.eventWebhookLag.set({ subscription }, Math.max(0, lagSeconds));
    },
  };
}

/** The production deliverer's dependencies from the configuration. */
export function webhookDeliveryDeps(
  db: Db,
  config: Pick<Config, 'eventWebhooks'>,
  observer?: DeliveryObserver,
): WebhookDeliveryDeps {
  const { timeoutMs, retryScheduleMs, refusePrivate, allowedHosts } = config.eventWebhooks;
  return {
    db,
    send: sendWebhook,
    now: Date.now,
    random: Math.random,
    policy: { refusePrivate, allowedHosts },
    timeoutMs,
    retryScheduleMs,
    stepBudgetMs: timeoutMs,
    observer,
  };
}
