/**
 * Activity stubs with the retry policies that make every saga close.
 *
 * Reserve is bounded: the saga gives up after its deadline (workflows/order-saga.ts) and
 * compensates. Confirm, release and the payment settlement are not: they retry until they
 * succeed, because a paid order must be deducted and an expired hold must be given back.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  proxySinks,
  type RetryPolicy,
  type Sinks,
} from '@temporalio/workflow';
import type { Activities } from './activity-types';
import { nonRetryableCodes } from '../domain/errors';

/** Error types that describe state, not faults: retrying cannot change the answer. */
const nonRetryableErrorTypes = [...nonRetryableCodes];
const retry: RetryPolicy = {
  initialInterval: '200ms',
  backoffCoefficient: 2,
  maximumInterval: '10s',
  nonRetryableErrorTypes,
};

/*
 * The stock steps run first as local activities: in the worker, inside the workflow task
 * that needs them, so a healthy saga costs a few server round trips instead of one per step.
 * A local activity that keeps failing keeps its workflow task open, and every workflow-task
 * heartbeat is three history events (~1,350 an hour): so the local attempt has a short
 * budget, and a step that has not succeeded within it continues as an ordinary activity,
 * whose retries the server keeps without adding history. A worker that dies mid-step makes
 * the task time out and another worker runs the step again, which the fences make harmless.
 */
const local = proxyLocalActivities<Activities>({ startToCloseTimeout: '10s', scheduleToCloseTimeout: '20s', retry });
const durable = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { ...retry, maximumInterval: '30s' },
});

type StockStep = 'reserve' | 'confirmPayment' | 'release' | 'settlePayment' | 'readOrderPayments';

/** The step as a local activity, then, if it has not succeeded in its budget, a durable one. */
function localThenDurable<K extends StockStep>(name: K): Activities[K] {
  type Step = (...args: unknown[]) => Promise<unknown>;
  const [first, then] = [local[name] as unknown as Step, durable[name] as unknown as Step];
  const step: Step = async (...args) => {
    try {
      return await first(...args);
    } catch (err) {
      if (isCancellation(err) || isFinal(err)) throw err;
      return then(...args);
    }
  };
  return step as unknown as Activities[K];
}

/** A failure retrying cannot change (a domain error the table marks non-retryable). */
export function isFinal(err: unknown): boolean {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable === true;
}

export const reserve = localThenDurable('reserve');
export const confirmPayment = localThenDurable('confirmPayment');
export const release = localThenDurable('release');
export const settlePayment = localThenDurable('settlePayment');
/** A read, local first like the steps: it runs inside the workflow task that decides on it. */
export const readOrderPayments = localThenDurable('readOrderPayments');

export const {
  lookupReservation,
  recordSettlement,
  requestTransfer,
  shipTransfer,
  receiveTransfer,
  cancelTransfer,
  returnTransfer,
  raiseTransferOverdue,
} = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes },
});

/** The gate only accelerates: a give-back that keeps failing is left to the gate's sync. */
export const { returnGateToken } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', maximumAttempts: 5 },
});

export const { syncGate, endCampaign, fulfilPreSale } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes },
});

export const {
  sweepExpiredHolds,
  raiseExpiryAlerts,
  writeOffExpiredLots,
  deliverAlerts,
  reconcileStock,
  settleStalePayments,
} = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
});

/**
 * Alert delivery from a run that must not wait on the webhook (the sweeper): a few attempts,
 * then the alerts stay pending for the next run; delivery is at least once either way.
 */
export const { deliverAlerts: deliverAlertsBounded } = proxyActivities<Activities>({
  startToCloseTimeout: '1m',
  retry: { initialInterval: '1s', maximumAttempts: 3 },
});

export const { checkCache } = proxyActivities<Activities>({
  startToCloseTimeout: '10m',
  retry: { initialInterval: '1s', maximumInterval: '1m', maximumAttempts: 5 },
});

/** Sinks the worker implements; called outside replay, so each ending is counted once. */
export interface MetricsSinks extends Sinks {
  metrics: {
    sagaEnded(status: string): void;
    /** A payment reached a settled state (PaymentState). */
    paymentSettled(state: string): void;
  };
}
export const { metrics } = proxySinks<MetricsSinks>();
