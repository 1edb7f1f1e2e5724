/**
 * Activity stubs with the retry policies that make every saga close.
 *
 * Reserve is bounded: if PostgreSQL is unreachable for a minute the order is refused and
 * compensated. Confirm and release are not: they retry with backoff until they succeed,
 * because a paid order must be deducted and an expired hold must be given back.
 */
import { proxyActivities, proxySinks, type Sinks } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { nonRetryableCodes } from '../domain/errors';

/** Error types that describe state, not faults: retrying cannot change the answer. */
const nonRetryableErrorTypes = [...nonRetryableCodes];

export const { reserve } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  scheduleToCloseTimeout: '2m',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s', nonRetryableErrorTypes },
});

export const { confirm, release, lookupReservation, recordSettlement } = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes },
});

export const { sweepExpiredHolds } = proxyActivities<Activities>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '1s', maximumInterval: '1m' },
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
