/**
 * Activity stubs with the retry policies that make every saga close.
 *
 * Reserve is bounded: if PostgreSQL is unreachable for two minutes the order is refused and
 * compensated. Confirm and release are not: they retry with backoff until they succeed,
 * because a paid order must be deducted and an expired hold must be given back.
 */
import { proxyActivities, proxyLocalActivities, proxySinks, type Sinks } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { nonRetryableCodes } from '../domain/errors';

/** Error types that describe state, not faults: retrying cannot change the answer. */
const nonRetryableErrorTypes = [...nonRetryableCodes];

/*
 * The three stock steps run as local activities: in the worker, inside the workflow task
 * that needs them, so a saga costs a few server round trips instead of one per step (the
 * API's Update-with-Start answers after a single workflow task). They are as durable as
 * ordinary activities for our purposes: a worker that dies mid-step makes the task time out
 * and another worker runs the step again, which the fences make harmless; retries beyond
 * the local threshold are scheduled as durable timers.
 */
export const { reserve } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '2m',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s', nonRetryableErrorTypes },
});

export const { confirm, release } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes },
});

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

/** The gate only accelerates: a give-back that keeps failing is left to reconciliation. */
export const { returnGateToken } = proxyActivities<Activities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '500ms', maximumAttempts: 5 },
});

export const { syncGate, endCampaign, fulfilPreSale } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '1s', maximumInterval: '30s', nonRetryableErrorTypes },
});

export const { sweepExpiredHolds, raiseExpiryAlerts, writeOffExpiredLots, deliverAlerts, reconcileStock } = proxyActivities<Activities>({
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
  metrics: { sagaEnded(status: string): void };
}
export const { metrics } = proxySinks<MetricsSinks>();
