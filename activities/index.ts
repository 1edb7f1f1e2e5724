/**
 * The activities of every workflow (orders, transfers, the scheduled checks):
 * `createActivities(deps)` binds them to their I/O. Each stock change is idempotent (fenced
 * by its business serial), so Temporal may retry any of them freely.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { DomainError, nonRetryableCodes } from '../domain/errors';
import type { TransferReceipt, TransferRequest } from '../domain/transfers';
import type { OrderPayment, Settlement } from '../domain/payments';
import type { ReleaseReason } from '../domain/types';
import type { Metrics } from '../platform/metrics';
import { deliverAlerts, type AlertWebhook } from './alerts';
import { checkCache } from '../data/cache/checker';
import type { CacheCheckOptions, ReconciliationReport } from '../domain/reports';
import type { StockCache } from '../data/cache/stock-cache';
import { asDataError } from '../data/data-errors';
import { asSystem, type Db } from '../data/db';
import { writeOffExpiredLots } from '../data/stock/expiry';
import { raiseExpiryAlerts } from '../data/alerts/stock-alerts';
import { findReservation } from '../data/orders/queries';
import { endCampaign, reserveFromCampaign } from '../data/campaigns/campaigns';
import { fulfilPreSale } from '../data/campaigns/pre-sales';
import { syncGate, type Gate } from '../data/gate';
import { reconcile } from '../data/stock/reconcile';
import { confirmPayment } from '../data/orders/confirm';
import { releaseStock } from '../data/orders/release';
import { reserveStock } from '../data/orders/reservations';
import type { ReserveInput } from '../domain/types';
import { readPayments, recordSettlementResult, settlePaymentTx } from '../data/payments/payments';
import {
  cancelTransfer,
  raiseTransferOverdue,
  receiveTransfer,
  requestTransfer,
  returnTransfer,
  shipTransfer,
} from '../data/transfers/transfers';
import type { Activities } from '../workflows/activity-types';
import { sweepExpiredHolds } from './sweep';
import { defaultBackstopOptions, settleStalePayments, type BackstopOptions } from '../use-cases/settle-stale-payments';
import { checkSagaPayments } from './saga-check';

export interface ActivityDeps {
  readonly db: Db;
  readonly temporal: Client;
  readonly metrics: Metrics;
  /** The flash-sale admission gate in Redis. */
  readonly gate: Gate;
  /** The availability cache (consistency checks). */
  readonly cache: StockCache;
  /** Where stock alerts are pushed; none: alerts are only listed by GET /alerts. */
  readonly alertWebhook?: AlertWebhook;
  /** Where late-payment settlements run, the hold lifetime of a re-reserve, and the backstop's delivery settings. */
  readonly payments: { readonly taskQueue: string; readonly ttlSeconds: number; readonly backstop?: BackstopOptions };
}

export function createActivities({
  db,
  temporal,
  metrics,
  gate,
  cache,
  alertWebhook,
  payments,
}: ActivityDeps): Activities {
  const { backstop = defaultBackstopOptions, ...target } = payments;
  const delivery = { db, temporal, ...target };
  const activities: Activities = {
    /** A campaign order takes its hold from the campaign's pool; any other from the levels. */
    reserve: (input: ReserveInput & { campaignId?: string }) =>
      input.campaignId ? reserveFromCampaign(db, { ...input, campaignId: input.campaignId }) : reserveStock(db, input),
    confirmPayment: (reservationId: string, paid: OrderPayment) => confirmPayment(db, reservationId, paid),
    settlePayment: (paid: OrderPayment, settlement: Settlement) => settlePaymentTx(db, paid, settlement),
    release: (reservationId: string, reason: ReleaseReason) => releaseStock(db, reservationId, reason),
    lookupReservation: (reservationId: string) => findReservation(db, reservationId),
    readOrderPayments: (orderId: string) => readPayments(db, orderId),
    recordSettlement: (orderId: string, paymentId: string, result: string) =>
      recordSettlementResult(db, orderId, paymentId, result),
    sweepExpiredHolds: (graceSeconds: number) =>
      sweepExpiredHolds(db, temporal, metrics, payments.taskQueue, graceSeconds),
    /** Returns an admitted flash-sale order's gate token (its hold was refused or released). */
    returnGateToken: (campaignId: string, userId: string, orderId: string) =>
      gate.giveBack(campaignId, userId, orderId),
    syncGate: (campaignId: string, force: boolean) => syncGate(db, gate, campaignId, force),
    endCampaign: (campaignId: string) => endCampaign(db, campaignId),
    fulfilPreSale: (campaignId: string, idempotencyKey: string, quantity: number) =>
      fulfilPreSale(db, campaignId, idempotencyKey, quantity),
    raiseExpiryAlerts: async () => {
      const raised = await raiseExpiryAlerts(db);
      metrics.alertsRaised.inc(raised);
      return raised;
    },
    writeOffExpiredLots: (runId: string) => writeOffExpiredLots(db, runId),
    deliverAlerts: () => deliverAlerts(db, alertWebhook),
    requestTransfer: (request: TransferRequest) => requestTransfer(db, request),
    shipTransfer: (transferId: string, deadlineAt: string) => shipTransfer(db, transferId, deadlineAt),
    receiveTransfer: (transferId: string, receipt: TransferReceipt) => receiveTransfer(db, transferId, receipt),
    cancelTransfer: (transferId: string) => cancelTransfer(db, transferId),
    returnTransfer: (transferId: string) => returnTransfer(db, transferId),
    raiseTransferOverdue: (transferId: string) => raiseTransferOverdue(db, transferId),
    reconcileStock: async (settleMinutes: number) => {
      const report = await reconcile(
        db,
        () => settleStalePayments(delivery, metrics, settleMinutes, backstop),
        () =>
          checkSagaPayments(db, temporal, Context.current().cancellationSignal).catch((err: unknown) => {
            Context.current().log.warn('saga check skipped: Temporal could not list the sagas waiting on goods', {
              error: String(err),
            });
            return [];
          }),
      );
      reportDrift(report, metrics);
      return report;
    },
    settleStalePayments: (settleMinutes: number) => settleStalePayments(delivery, metrics, settleMinutes, backstop),
    checkCache: (options: CacheCheckOptions) =>
      checkCache(db, cache, options, metrics, (level, message, fields) =>
        Context.current().log[level](message, fields),
      ),
  };
  return instrument(activities, metrics);
}

export type { Activities } from '../workflows/activity-types';

/** Drift is reported, never fixed: a gauge to alert on, and a log line with the rows. */
function reportDrift(report: ReconciliationReport, metrics: Metrics): void {
  metrics.reconciliationDrifts.set(report.drifts.length);
  const log = Context.current().log;
  if (report.clean) log.info('reconciliation clean', { runId: report.runId, levelsChecked: report.levelsChecked });
  else {
    const { runId, drifts, unsettledPayments, sagaMismatches } = report;
    log.error('reconciliation found drift', { runId, drifts, unsettledPayments, sagaMismatches });
  }
}

/**
 * Wraps every activity: counts retries and times attempts, and turns domain errors into
 * Temporal failures whose type is the error code (non-retryable where the table says so).
 * PostgreSQL's refusal of the data itself (SQLSTATE class 22/23, data/data-errors.ts) is a
 * domain error too, and final: retrying the same NUL byte or overflowing number would fail
 * for ever and hold its workflow. Any other error stays retryable: lock timeouts and lost
 * connections are retried with backoff until the step is done. Each runs as its workflow's
 * system writer ({@link systemWriter}): the ledger rows it writes say `system:<writer>`.
 */
function instrument<T extends { [K in keyof T]: (...args: never[]) => Promise<unknown> }>(
  activities: T,
  metrics: Metrics,
): T {
  const wrapped: Record<string, (...args: never[]) => Promise<unknown>> = {};
  for (const [name, fn] of Object.entries(activities) as [string, (...args: never[]) => Promise<unknown>][]) {
    wrapped[name] = async (...args: never[]) => {
      if (Context.current().info.attempt > 1) metrics.activityRetries.inc({ activity: name });
      const stop = metrics.activityDuration.startTimer({ activity: name });
      try {
        const result = await asSystem(systemWriter(Context.current().info.workflowType ?? ''), () => fn(...args));
        stop({ result: 'ok' });
        return result;
      } catch (thrown) {
        stop({ result: 'error' });
        const err = asDataError(thrown) ?? thrown;
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

/**
 * The writer a workflow's activities record as their actor (`system:<writer>`): the order saga
 * is `order-saga`, any other workflow its name without `Workflow`, kebab-cased
 * (`sweeperWorkflow` → `sweeper`, `expiryWorkflow` → `expiry`, `transferWorkflow` → `transfer`).
 */
export function systemWriter(workflowType: string): string {
  if (workflowType === 'orderWorkflow') return 'order-saga';
  const name = workflowType.replace(/Workflow$/, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  return name.replace(/^-/, '') || 'worker';
}
