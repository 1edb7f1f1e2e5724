/**
 * Prometheus metrics (prom-client). Each process (API, worker) builds one registry and
 * serves it at /metrics; the names below are documented in docs/deployment.md "Metrics the dashboard and the rules use".
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export interface Metrics {
  readonly registry: Registry;
  /** POST /orders answers by outcome: reserved, rejected, duplicate, error. */
  readonly orders: Counter<'outcome'>;
  /** Sagas ended, by final status (CONFIRMED, RELEASED, REJECTED, REFUND_REQUIRED). */
  readonly sagaEndings: Counter<'status'>;
  /** Payments settled, by state (CONFIRMED, REFUND_REQUIRED, DUPLICATE_CHARGE, AMOUNT_MISMATCH, ...). */
  readonly paymentsSettled: Counter<'state'>;
  /** Payments found PENDING past PAYMENT_SETTLE_MINUTES by the latest check: must be 0. */
  readonly paymentsUnsettled: Gauge;
  /** Payment webhook deliveries by result (delivered, duplicate, late, bad_signature, unknown_order, ...). */
  readonly webhooks: Counter<'result'>;
  /** Payment delivery attempts after the webhook's answer, by source (api, relay, backstop) and outcome (delivered, late_settlement, saga_running, awaiting_order, refund_required, failed). */
  readonly paymentDeliveries: Counter<'source' | 'outcome'>;
  /** Activity attempts beyond the first, by activity: retries that closed a transaction. */
  readonly activityRetries: Counter<'activity'>;
  /** Activity durations by activity and result. */
  readonly activityDuration: Histogram<'activity' | 'result'>;
  /** Drifts found by the latest reconciliation (0 = clean). */
  readonly reconciliationDrifts: Gauge;
  /** Order sagas still running past their hold's expiry + grace, as the latest sweep found them (0 = none). */
  readonly sagasPastExpiry: Gauge;
  /** Stock alerts raised (near expiry, expired). */
  readonly alertsRaised: Counter;
  /** Availability reads by cache result: hit, miss, bypass (breaker open / Redis unusable). */
  readonly cacheReads: Counter<'result'>;
  /** 1 while the cache's circuit breaker is open (or half-open), else 0. */
  readonly cacheBreakerOpen: Gauge;
  /** Outbox rows applied to Redis by the relay, by result (applied, retry). */
  readonly cacheRelayed: Counter<'result'>;
  /** Consistency checks by result (ok, drift); a drift also rebuilds the cache. */
  readonly cacheChecks: Counter<'result'>;
  /** Drift ratio (0..1) found by the last consistency check. */
  readonly cacheDriftRatio: Gauge;
  /** Order rate-limit checks by store (redis: shared; local: Redis could not answer) and result (allowed, key, user). */
  readonly rateLimitChecks: Counter<'store' | 'result'>;
  /** Saga starts waiting or running in this API process (the rest are the relay's). */
  readonly sagaStartBacklog: Gauge;
  /** Saga starts this API process may run at once now (adapted to Temporal's latency). */
  readonly sagaStartWindow: Gauge;
  readonly leftToRelay: Gauge;
  /** GET /orders/:id answers by source: saga (its query answered in time) or database (PostgreSQL answered). */
  readonly orderReads: Counter<'source'>;
  /** Events sent by a push channel (nats), by outcome: published, duplicate (the stream had its id), failed (a pass that failed). */
  readonly eventPublishes: Counter<'channel' | 'outcome'>;
  /** Events deleted by retention (EVENT_RETENTION_DAYS). */
  readonly eventsExpired: Counter;
  /** Event webhook attempts by subscription and outcome (delivered, http_error, throttled, timeout, network_error, redirect, gone, refused). */
  readonly eventWebhookAttempts: Counter<'subscription' | 'outcome'>;
  /** How long each receiver took to answer an attempt. */
  readonly eventWebhookLatency: Histogram<'subscription'>;
  /** Positioned events after a subscription's cursor: what it has yet to hear (filtered ones included). */
  readonly eventWebhookBacklog: Gauge<'subscription'>;
  /** Age of the last event delivered to a subscription when its receiver took it (seconds). */
  readonly eventWebhookLag: Gauge<'subscription'>;
}

export function createMetrics(processName: 'api' | 'worker'): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ process: processName });
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    orders: new Counter({
      name: 'stockhold_orders_total',
      help: 'Order placements by outcome',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    sagaEndings: new Counter({
      name: 'stockhold_saga_endings_total',
      help: 'Order sagas ended, by final status',
      labelNames: ['status'],
      registers: [registry],
    }),
    paymentsSettled: new Counter({
      name: 'stockhold_payments_settled_total',
      help: 'Payments settled, by state',
      labelNames: ['state'],
      registers: [registry],
    }),
    paymentsUnsettled: new Gauge({
      name: 'stockhold_payments_unsettled',
      help: 'Payments PENDING past PAYMENT_SETTLE_MINUTES (latest check)',
      registers: [registry],
    }),
    webhooks: new Counter({
      name: 'stockhold_webhook_deliveries_total',
      help: 'Payment webhook deliveries by result',
      labelNames: ['result'],
      registers: [registry],
    }),
    paymentDeliveries: new Counter({
      name: 'stockhold_payment_delivery_attempts_total',
      help: 'Payment delivery attempts after the webhook answered, by source and outcome',
      labelNames: ['source', 'outcome'],
      registers: [registry],
    }),
    activityRetries: new Counter({
      name: 'stockhold_activity_retries_total',
      help: 'Activity attempts after the first',
      labelNames: ['activity'],
      registers: [registry],
    }),
    activityDuration: new Histogram({
      name: 'stockhold_activity_duration_seconds',
      help: 'Activity execution time',
      labelNames: ['activity', 'result'],
      buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    reconciliationDrifts: new Gauge({
      name: 'stockhold_reconciliation_drifts',
      help: 'Drifts found by the latest reconciliation',
      registers: [registry],
    }),
    sagasPastExpiry: new Gauge({
      name: 'stockhold_sagas_past_expiry',
      help: 'Order sagas running past hold expiry + grace at the latest sweep',
      registers: [registry],
    }),
    alertsRaised: new Counter({
      name: 'stockhold_stock_alerts_total',
      help: 'Stock alerts raised',
      registers: [registry],
    }),
    cacheReads: new Counter({
      name: 'stockhold_cache_reads_total',
      help: 'Availability reads by cache result',
      labelNames: ['result'],
      registers: [registry],
    }),
    cacheBreakerOpen: new Gauge({
      name: 'stockhold_cache_breaker_open',
      help: '1 while the cache circuit breaker is not closed',
      registers: [registry],
    }),
    cacheRelayed: new Counter({
      name: 'stockhold_cache_relay_rows_total',
      help: 'Cache outbox rows by relay result',
      labelNames: ['result'],
      registers: [registry],
    }),
    cacheChecks: new Counter({
      name: 'stockhold_cache_checks_total',
      help: 'Cache consistency checks by result',
      labelNames: ['result'],
      registers: [registry],
    }),
    cacheDriftRatio: new Gauge({
      name: 'stockhold_cache_drift_ratio',
      help: 'Drift ratio found by the last cache consistency check',
      registers: [registry],
    }),
    sagaStartBacklog: new Gauge({
      name: 'stockhold_saga_start_backlog',
      help: 'Saga starts waiting or running in this API process after their holds committed',
      registers: [registry],
    }),
    sagaStartWindow: new Gauge({
      name: 'stockhold_saga_start_window',
      help: 'Saga starts this API process may run at once, adapted to the latency of Temporal',
      registers: [registry],
    }),
    leftToRelay: new Gauge({
      name: 'stockhold_left_to_relay',
      help: 'Saga starts and payment deliveries this API process left to the worker relays since it started: still waiting at SAGA_START_MAX_DEFER_MS during a burst, or queued past the relay grace',
      labelNames: ['work'],
      registers: [registry],
    }),
    rateLimitChecks: new Counter({
      name: 'stockhold_rate_limit_checks_total',
      help: 'Order rate-limit checks by store and result',
      labelNames: ['store', 'result'],
      registers: [registry],
    }),
    orderReads: new Counter({
      name: 'stockhold_order_reads_total',
      help: 'GET /orders/:id answers by source (saga, database)',
      labelNames: ['source'],
      registers: [registry],
    }),
    eventPublishes: new Counter({
      name: 'stockhold_event_publishes_total',
      help: 'Events sent by a push channel, by outcome (published, duplicate, failed)',
      labelNames: ['channel', 'outcome'],
      registers: [registry],
    }),
    eventsExpired: new Counter({
      name: 'stockhold_events_expired_total',
      help: 'Positioned events deleted by retention',
      registers: [registry],
    }),
    eventWebhookAttempts: new Counter({
      name: 'stockhold_event_webhook_attempts_total',
      help: 'Event webhook delivery attempts by subscription and outcome',
      labelNames: ['subscription', 'outcome'],
      registers: [registry],
    }),
    eventWebhookLatency: new Histogram({
      name: 'stockhold_event_webhook_latency_seconds',
      help: 'Event webhook receivers answer time',
      labelNames: ['subscription'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
    eventWebhookBacklog: new Gauge({
      name: 'stockhold_event_webhook_backlog',
      help: 'Positioned events after each subscription cursor',
      labelNames: ['subscription'],
      registers: [registry],
    }),
    eventWebhookLag: new Gauge({
      name: 'stockhold_event_webhook_lag_seconds',
      help: 'Age of the last event delivered to each subscription when it was delivered',
      labelNames: ['subscription'],
      registers: [registry],
    }),
  };
}
