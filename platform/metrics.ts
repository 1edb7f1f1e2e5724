/**
 * Prometheus metrics (prom-client). Each process (API, worker) builds one registry and
 * serves it at /metrics; the names below are documented in README "Metrics".
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  /** POST /orders answers by outcome: reserved, rejected, duplicate, error. */
  readonly orders: Counter<'outcome'>;
  /** Sagas ended, by final status (CONFIRMED, RELEASED, REJECTED, REFUND_REQUIRED). */
  readonly sagaEndings: Counter<'status'>;
  /** Payment webhook deliveries by result (delivered, duplicate, late, bad_signature, unknown_order, ...). */
  readonly webhooks: Counter<'result'>;
  /** Activity attempts beyond the first, by activity: retries that closed a transaction. */
  readonly activityRetries: Counter<'activity'>;
  /** Activity durations by activity and result. */
  readonly activityDuration: Histogram<'activity' | 'result'>;
  /** Drifts found by the latest reconciliation (0 = clean). */
  readonly reconciliationDrifts: Gauge;
  /** Stock alerts raised (near expiry, expired). */
  readonly alertsRaised: Counter;
}

export function createMetrics(processName: 'api' | 'worker'): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ process: processName });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    orders: new Counter({ name: 'stockhold_orders_total', help: 'Order placements by outcome', labelNames: ['outcome'], registers: [registry] }),
    sagaEndings: new Counter({ name: 'stockhold_saga_endings_total', help: 'Order sagas ended, by final status', labelNames: ['status'], registers: [registry] }),
    webhooks: new Counter({ name: 'stockhold_webhook_deliveries_total', help: 'Payment webhook deliveries by result', labelNames: ['result'], registers: [registry] }),
    activityRetries: new Counter({ name: 'stockhold_activity_retries_total', help: 'Activity attempts after the first', labelNames: ['activity'], registers: [registry] }),
    activityDuration: new Histogram({
      name: 'stockhold_activity_duration_seconds',
      help: 'Activity execution time',
      labelNames: ['activity', 'result'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    reconciliationDrifts: new Gauge({ name: 'stockhold_reconciliation_drifts', help: 'Drifts found by the latest reconciliation', registers: [registry] }),
    alertsRaised: new Counter({ name: 'stockhold_stock_alerts_total', help: 'Stock alerts raised', registers: [registry] }),
  };
}
