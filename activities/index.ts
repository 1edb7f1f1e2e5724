/**
 * The activities of the order saga: `createActivities(deps)` binds them to their I/O. Each is
 * idempotent (fenced by its business serial), so Temporal may retry any of them freely.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { DomainError, nonRetryableCodes } from '../domain/errors';
import type { ReleaseReason } from '../domain/types';
import type { Metrics } from '../platform/metrics';
import { checkCache, type CheckOptions } from './cache/checker';
import type { StockCache } from './cache/stock-cache';
import type { Db } from './store/db';
import { confirmStock, releaseStock, reserveStock, type ReserveInput } from './store/reservations';
import { findReservation } from './store/queries';
import { sweepExpiredHolds } from './sweep';

export interface ActivityDeps {
  readonly db: Db;
  readonly temporal: Client;
  readonly metrics: Metrics;
  readonly cache: StockCache;
}

export function createActivities({ db, temporal, metrics, cache }: ActivityDeps) {
  const activities = {
    reserve: (input: ReserveInput) => reserveStock(db, input),
    confirm: (reservationId: string, paymentId: string) => confirmStock(db, reservationId, paymentId),
    release: (reservationId: string, reason: ReleaseReason) => releaseStock(db, reservationId, reason),
    lookupReservation: (reservationId: string) => findReservation(db, reservationId),
    recordSettlement: async (orderId: string, paymentId: string, result: string): Promise<void> => {
      await db.paymentEvent.updateMany({ where: { orderId, paymentId }, data: { result } });
    },
    sweepExpiredHolds: (graceSeconds: number) => sweepExpiredHolds(db, temporal, graceSeconds),
    checkCache: (options: CheckOptions) => checkCache(db, cache, options, metrics, (level, message, fields) => Context.current().log[level](message, fields)),
  };
  return instrument(activities, metrics);
}

export type Activities = ReturnType<typeof createActivities>;

/**
 * Wraps every activity: counts retries and times attempts, and turns domain errors into
 * Temporal failures whose type is the error code (non-retryable where the table says so).
 * Any other error stays retryable: lock timeouts and lost connections are retried with
 * backoff until the step is done.
 */
function instrument<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T, metrics: Metrics): T {
  const wrapped: Record<string, (...args: never[]) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(activities)) {
    wrapped[name] = async (...args: never[]) => {
      if (Context.current().info.attempt > 1) metrics.activityRetries.inc({ activity: name });
      const stop = metrics.activityDuration.startTimer({ activity: name });
      try {
        const result = await fn(...args);
        stop({ result: 'ok' });
        return result;
      } catch (err) {
        stop({ result: 'error' });
        if (err instanceof DomainError) {
          throw ApplicationFailure.create({
            type: err.code,
            message: err.message,
            nonRetryable: nonRetryableCodes.includes(err.code),
            details: err.details === undefined ? [] : [err.details],
          });
        }
        Context.current().log.warn('activity attempt failed; Temporal will retry', { error: String(err) });
        throw err;
      }
    };
  }
  return wrapped as T;
}
