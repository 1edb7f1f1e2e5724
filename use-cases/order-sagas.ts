/**
 * Starting order sagas after their hold committed. The hold's transaction wrote a
 * `saga_starts` row (the outbox); the API starts the saga right after the commit, a bounded
 * number at a time so a burst never floods Temporal, and marks the row; the worker's relay
 * starts whatever is still unmarked a few seconds later (the API died, or Temporal was down).
 * A start is idempotent: the workflow id is the order's, an existing run is kept.
 */
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
  type WorkflowSignalWithStartOptions,
} from '@temporalio/client';
import type { SignalDefinition } from '@temporalio/common';
import type { Db } from '../data/db';
import { leaseDueSagaStarts, markSagasStarted, sagaOutbox } from '../data/orders/saga-starts';
import { AdaptiveWindow } from '../platform/adaptive-window';
import { DeferringQueue } from '../platform/deferring-queue';
import type { OrderWorkflowInput } from '../domain/order-saga';
import { orderWorkflowId } from '../workflows/ids';
import {
  OrderIdAttr,
  OrderSkusAttr,
  ReservationExpiresAtAttr,
  ReservationStatusAttr,
} from '../workflows/search-attributes';
import type { orderWorkflow } from '../workflows/order';

/** The options every start of an order saga uses, whoever starts it and with whatever signal. */
export function sagaStartOptions(taskQueue: string, input: OrderWorkflowInput) {
  const held = input.reservation?.status === 'reserved' ? input.reservation : undefined;
  return {
    workflowId: orderWorkflowId(input.order.orderId),
    taskQueue,
    args: [input] as [OrderWorkflowInput],
    // An order id is used once: a finished order is never run again.
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    typedSearchAttributes: [
      { key: OrderIdAttr, value: input.order.orderId },
      { key: OrderSkusAttr, value: [...new Set(input.order.lines.map((l) => l.sku))] },
      { key: ReservationStatusAttr, value: held ? 'AWAITING_PAYMENT' : 'RESERVING' },
      ...(held ? [{ key: ReservationExpiresAtAttr, value: new Date(held.expiresAt) }] : []),
    ],
  };
}

/** Starts the saga unless it exists (running or ended): true once Temporal has it. */
export async function startOrderSaga(temporal: Client, taskQueue: string, input: OrderWorkflowInput): Promise<void> {
  try {
    await temporal.workflow.start<typeof orderWorkflow>('orderWorkflow', sagaStartOptions(taskQueue, input));
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/**
 * Starts an order's saga if its outbox row is still unmarked (its hold committed, the start
 * queued or lost), then marks the row: true if it did. A marked row means Temporal has the saga.
 */
export async function startUnstartedSaga(
  db: Db,
  temporal: Client,
  taskQueue: string,
  orderId: string,
): Promise<boolean> {
  const outbox = await sagaOutbox(db, orderId);
  if (!outbox || outbox.startedAt) return false;
  await startOrderSaga(temporal, taskQueue, outbox.input);
  await markSagasStarted(db, [orderId]);
  return true;
}

/**
 * The API's starter: `start(input)` returns at once; at most `concurrency` starts are in
 * flight, the rest wait in memory (lost if the process dies — the relay has them). Started
 * rows are marked in batches. While `busy()` says shoppers are being answered (a burst on a
 * hot row, many requests in flight), starts wait — the shopper's answer comes first, the saga
 * only closes — for at most `maxDeferMs`, and a start still waiting then while the API is
 * still busy is the relay's (DeferringQueue). A start still queued when the relay's
 * grace has passed is left to the relay, so a backlog is not started twice over (an overlap
 * at the boundary is harmless: a start is idempotent). How many run at once adapts to
 * Temporal's latency (`window`, AIMD up to `concurrency`): while starts answer slower than
 * `targetLatencyMs` or fail, fewer run, so a slow or unreachable Temporal server (or one
 * starved of CPU on a shared host) does not take the API's CPU and sockets with retries; the
 * starts left waiting pass to the relay after its grace, which paces itself.
 */
export class SagaStarter extends DeferringQueue<OrderWorkflowInput> {
  /** Starts in flight at most, adapted to the latency of the last starts (a metric reads it). */
  readonly window: AdaptiveWindow;
  private readonly started: string[] = [];
  private marking: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly temporal: Client,
    private readonly taskQueue: string,
    concurrency = 16,
    private readonly onError: (err: unknown) => void = () => undefined,
    /** Failure drills and tests: hold every start back this long (the relay may take over). */
    private readonly delayMs = 0,
    /** A start slower than this narrows the window (SAGA_START_TARGET_LATENCY_MS). */
    targetLatencyMs = 500,
  ) {
    super(concurrency);
    this.window = new AdaptiveWindow({ max: concurrency, targetMs: targetLatencyMs });
  }

  protected limit(): number {
    return this.window.limit;
  }

  start(input: OrderWorkflowInput): void {
    if (this.delayMs > 0) setTimeout(() => this.push(input), this.delayMs).unref();
    else this.push(input);
  }

  protected run(input: OrderWorkflowInput): Promise<void> {
    const sent = Date.now();
    return startOrderSaga(this.temporal, this.taskQueue, input).then(
      () => {
        this.window.record(Date.now() - sent);
        this.started.push(input.order.orderId);
        this.flushMarks();
      },
      (err: unknown) => {
        this.window.record(Date.now() - sent, true);
        this.onError(err);
      },
    );
  }

  private flushMarks(): void {
    if (this.marking) return;
    this.marking = (async () => {
      while (this.started.length > 0) await markSagasStarted(this.db, this.started.splice(0, 500)).catch(this.onError);
    })().finally(() => {
      this.marking = undefined;
    });
  }
}

/** The relay's settings: how old an unmarked row must be, and how many to take per pass. */
export interface SagaRelayOptions {
  readonly graceMs: number;
  readonly intervalMs: number;
  readonly batch: number;
}

/**
 * One relay pass: leases due unmarked rows (SKIP LOCKED, so several workers share the work),
 * starts their sagas and marks them; a failed start is retried on a later pass with backoff.
 */
export async function relaySagaStarts(
  db: Db,
  temporal: Client,
  taskQueue: string,
  options: SagaRelayOptions,
): Promise<number> {
  const due = await leaseDueSagaStarts(db, options);
  const results = await Promise.allSettled(
    due.map((row) => startOrderSaga(temporal, taskQueue, row.input).then(() => row.orderId)),
  );
  await markSagasStarted(
    db,
    results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])),
  );
  return due.length;
}

/** Runs the relay until stopped. */
export function startSagaRelay(
  db: Db,
  temporal: Client,
  taskQueue: string,
  options: SagaRelayOptions,
  log: (err: unknown) => void,
): { stop(): Promise<void> } {
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const n = await relaySagaStarts(db, temporal, taskQueue, options).catch((err) => {
        log(err);
        return 0;
      });
      if (n < options.batch) await new Promise((r) => setTimeout(r, options.intervalMs));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/**
 * Signals an order's saga; one that has not started yet (its hold committed, the start still
 * queued or lost) is started with the signal, so a payment or cancel that overtakes the start
 * is never lost. 'ended': no running saga and none to start (it ran and closed, or the order
 * never held stock) — the caller decides from PostgreSQL.
 */
export async function signalOrderSaga<Args extends unknown[]>(
  temporal: Client,
  db: Db,
  taskQueue: string,
  orderId: string,
  signal: SignalDefinition<Args>,
  args: Args,
): Promise<'signalled' | 'ended'> {
  if (await signalIfRunning(temporal, orderId, signal, args)) return 'signalled';
  return signalAfterMiss(temporal, db, taskQueue, orderId, signal, args);
}

/** The signal, to a saga Temporal has; false when it has none (never started, closed, or deleted). */
async function signalIfRunning<Args extends unknown[]>(
  temporal: Client,
  orderId: string,
  signal: SignalDefinition<Args>,
  args: Args,
): Promise<boolean> {
  try {
    await temporal.workflow.getHandle(orderWorkflowId(orderId)).signal(signal, ...args);
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/**
 * The second half of signalOrderSaga, after the signal found no saga: the saga outbox says
 * why. Not started yet: started with the signal. Marked started: the start may have landed
 * since the signal missed (the API's after-commit start and the relay run concurrently with
 * every caller), so the signal is sent again; only a second miss means the saga has ended.
 * Read as "ended" at once, a payment overtaking a slow start was settled as late while the
 * saga it belonged to waited for it until its hold expired.
 */
export async function signalAfterMiss<Args extends unknown[]>(
  temporal: Client,
  db: Db,
  taskQueue: string,
  orderId: string,
  signal: SignalDefinition<Args>,
  args: Args,
): Promise<'signalled' | 'ended'> {
  const outbox = await sagaOutbox(db, orderId);
  if (!outbox) return 'ended';
  if (outbox.startedAt) return (await signalIfRunning(temporal, orderId, signal, args)) ? 'signalled' : 'ended';
  const { input } = outbox;
  try {
    const options = { ...sagaStartOptions(taskQueue, input), signal, signalArgs: args };
    // Every signal of the order saga takes one argument; the SDK's option type cannot see that through `Args`.
    await temporal.workflow.signalWithStart(
      'orderWorkflow',
      options as unknown as WorkflowSignalWithStartOptions<[unknown]> & { args: [OrderWorkflowInput] },
    );
  } catch (err) {
    // It started and closed between the signal and now.
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'ended';
    throw err;
  }
  await markSagasStarted(db, [orderId]);
  return 'signalled';
}
