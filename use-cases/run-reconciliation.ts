/**
 * A reconciliation asked for now (POST /admin/reconciliation, the console's "run now"): the
 * invariants checked and recorded, and the payments left unsettled past PAYMENT_SETTLE_MINUTES
 * driven to settlement on the way, as the hourly schedule's run does. Read-only on stock:
 * drift is reported, never fixed.
 */
import type { Config } from '../config';
import type { Db } from '../data/db';
import { reconcile } from '../data/stock/reconcile';
import type { ReconciliationReport } from '../domain/reports';
import type { Metrics } from '../platform/metrics';
import type { Client } from '@temporalio/client';
import { settleStalePayments } from './settle-stale-payments';

/** What a reconciliation run needs. */
export interface ReconciliationDeps {
  readonly db: Db;
  readonly temporal: Client;
  readonly config: Config;
  readonly metrics: Metrics;
}

export function runReconciliation({
  db,
  temporal,
  config,
  metrics,
}: ReconciliationDeps): Promise<ReconciliationReport> {
  const delivery = { db, temporal, taskQueue: config.temporal.taskQueue, ttlSeconds: config.reservationTtlSeconds };
  return reconcile(db, () =>
    settleStalePayments(delivery, metrics, config.paymentSettleMinutes, { ...config.paymentDelivery, pageSize: 500 }),
  );
}
