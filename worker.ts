/**
 * The worker process: runs the order, late-payment, campaign, transfer and scheduled
 * workflows and their activities, keeps the schedules in line with the config, relays
 * cache invalidations from the outbox to Redis, starts order sagas the API did not (the saga
 * outbox), delivers payments the API did not or that are still unsettled at their re-check
 * (the payment outbox), publishes events to NATS JetStream when EVENTS_NATS_URL is set, sends
 * positioned events to webhook subscriptions, deletes events past their retention, and serves
 * its metrics and health.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { NativeConnection, Runtime, Worker, type InjectedSinks } from '@temporalio/worker';
import { createActivities } from './activities';
import { createStockCache, invalidateOnCommit, startCacheRelay } from './data/cache';
import { createGate } from './data/gate';
import { createDb, dbOptions, type Db } from './data/db';
import { EventRelay, startEventRetention } from './data/events';
import { ConfigError, loadConfig, type Config } from './config';
import { createLogger, temporalLogger } from './platform/log';
import { createMetrics, type Metrics } from './platform/metrics';
import { exitWithParent, startedToExitWithParent } from './platform/parent-watch';
import { registerStoreGauges } from './platform/store-gauges';
import { storeGaugeReader } from './data/store-gauges';
import { createGateRedis } from './platform/redis';
import { startSagaRelay } from './use-cases/order-sagas';
import { NatsEventChannel } from './use-cases/publish-events';
import { openJetStream } from './platform/nats';
import { startPaymentRelay } from './use-cases/payment-relay';
import { metricsObserver, webhookDeliveryDeps } from './use-cases/event-webhooks';
import { WebhookDispatcher } from './use-cases/webhook-dispatcher';
import { closeConnection, connectClient, temporalConnectionOptions } from './platform/temporal';
import { bootSchedules } from './use-cases/schedules';
import type { MetricsSinks } from './workflows/activities-proxy';

/** Worker options other than the connection; tests reuse them with a prebuilt bundle. */
export function workerSinks(metrics: Metrics): InjectedSinks<MetricsSinks> {
  return {
    metrics: {
      sagaEnded: { fn: (_info, status) => metrics.sagaEndings.inc({ status }), callDuringReplay: false },
      paymentSettled: { fn: (_info, state) => metrics.paymentsSettled.inc({ state }), callDuringReplay: false },
    },
  };
}

/**
 * The worker's HTTP endpoint (WORKER_METRICS_HOST:WORKER_METRICS_PORT): /metrics for
 * Prometheus, and /healthz, 200 while the Temporal worker runs (polls and executes), 503
 * with its state otherwise (starting, draining, stopped, failed) for a liveness probe.
 */
export function serveWorkerHttp(
  metrics: Metrics,
  state: () => string,
  address: { host: string; port: number },
): http.Server {
  return http
    .createServer((req, res) => {
      if (req.method !== 'GET') {
        res.writeHead(405).end();
      } else if (req.url === '/metrics') {
        // node:http does not await its listener: a failed collection answers 500 here instead
        // of becoming an unhandled rejection that ends the worker.
        metrics.registry.metrics().then(
          (body) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(body),
          (err: unknown) =>
            res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics collection failed: ${String(err)}`),
        );
      } else if (req.url === '/healthz') {
        const now = state();
        res.writeHead(now === 'RUNNING' ? 200 : 503, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status: now === 'RUNNING' ? 'ok' : 'not running', worker: now }));
      } else {
        res.writeHead(404).end();
      }
    })
    .listen(address.port, address.host);
}

/** The worker's metrics: the process's counters and the gauges read from PostgreSQL at scrape time. */
export function createWorkerMetrics(
  config: Pick<Config, 'sweeperGraceSeconds'>,
  db: Pick<Db, '$queryRawUnsafe'>,
): Metrics {
  const metrics = createMetrics('worker');
  registerStoreGauges(metrics.registry, storeGaugeReader(db), { graceSeconds: config.sweeperGraceSeconds });
  return metrics;
}

/**
 * The workflow code the worker runs: the bundle `npm run build` made beside the compiled
 * worker (dist/workflow-bundle.js: no webpack at start, the code that was tested is the code
 * that runs), or else the workflows bundled at start from the sources (`npm start`, tests).
 */
export function workflowCode(dir = __dirname): { workflowBundle: { codePath: string } } | { workflowsPath: string } {
  const codePath = path.join(dir, 'workflow-bundle.js');
  return existsSync(codePath) ? { workflowBundle: { codePath } } : { workflowsPath: require.resolve('./workflows') };
}

export async function runWorker(config: Config): Promise<void> {
  const log = createLogger('worker', config);
  // The Runtime's own signal handlers remove themselves on the first signal, so a second one
  // (Ctrl-C's SIGINT beside a supervisor's SIGTERM) killed the worker mid-drain: ours stay,
  // drain once and ignore repeats.
  Runtime.install({ logger: temporalLogger(log), shutdownSignals: [] });
  let worker: Worker | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (worker === undefined) {
      log.info({ signal }, 'stopped before polling: nothing to drain');
      process.exit(0);
    }
    if (worker.getState() !== 'RUNNING')
      return void log.info({ signal, state: worker.getState() }, 'already shutting down; signal ignored');
    log.info({ signal, shutdownGraceTime: '10s' }, 'draining: polling stops, in-flight tasks finish');
    worker.shutdown();
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal);
  if (startedToExitWithParent()) exitWithParent();
  const db = createDb(config.databaseUrl, dbOptions(config));
  const metrics = createWorkerMetrics(config, db);
  const client = await connectClient(config);
  // A new install shows its alerts, reconciliation report and cache check at once.
  await bootSchedules(client, config);
  const cache = createStockCache(config, metrics);
  invalidateOnCommit(db, cache);
  const relay = startCacheRelay(db, cache, config, metrics);
  // The event relay, NATS, retention and webhooks run on both stores (MySQL/MariaDB: data/mariadb/events.ts).
  // Committed events get their feed positions (GET /events also positions before it reads).
  const eventRelay = new EventRelay(db, {
    intervalMs: config.eventRelayIntervalMs,
    log: (message, fields) => log.warn(fields, message),
  });
  eventRelay.start();
  // Positioned events to NATS JetStream (EVENTS_NATS_URL), from the channel's cursor; NATS down only delays them.
  const nats = config.eventsNats;
  const natsChannel = nats
    ? new NatsEventChannel(db, {
        open: () =>
          openJetStream({
            url: nats.url,
            name: `stockhold-worker-${process.pid}`,
            stream: nats.stream,
            subjects: [`${nats.subjectPrefix}.>`],
            maxAgeSeconds: config.eventRetention.days * 24 * 3600,
            duplicateWindowSeconds: nats.duplicateWindowSeconds,
            publishTimeoutMs: nats.publishTimeoutMs,
          }),
        subjectPrefix: nats.subjectPrefix,
        intervalMs: config.eventRelayIntervalMs,
        maxBackoffMs: nats.maxBackoffMs,
        onPublish: (outcome, n) => metrics.eventPublishes.inc({ channel: 'nats', outcome }, n),
        log: (message, fields) => log.warn(fields, message),
      }).start()
    : undefined;
  // Old positioned events every channel has passed (EVENT_RETENTION_DAYS).
  const retention = startEventRetention(db, {
    ...config.eventRetention,
    onDeleted: (n) => metrics.eventsExpired.inc(n),
    log: (message, fields) => log.warn(fields, message),
  });
  // Positioned events to each webhook subscription: one loop per subscription (docs/events.md "Webhooks").
  const webhooks = new WebhookDispatcher(webhookDeliveryDeps(db, config, metricsObserver(metrics)), {
    pollMs: config.eventWebhooks.pollMs,
    // A step starts no send after WEBHOOK_TIMEOUT_MS, so it lasts at most two timeouts: well within the lease.
    leaseMs: 2 * config.eventWebhooks.timeoutMs + 30_000,
    log: (message, fields) => log.warn(fields, message),
  });
  webhooks.start();
  // Sagas whose hold committed but whose start the API never made (it died, Temporal was down).
  const sagaRelay = startSagaRelay(
    db,
    client,
    config.temporal.taskQueue,
    { graceMs: config.sagaRelayGraceMs, intervalMs: 1_000, batch: 100 },
    (err) => log.warn({ err }, 'saga relay pass failed; retrying'),
  );
  // Payments the API stored but did not deliver, and delivered ones still PENDING at their re-check.
  const paymentRelay = startPaymentRelay(
    { db, temporal: client, taskQueue: config.temporal.taskQueue, ttlSeconds: config.reservationTtlSeconds },
    { ...config.paymentDelivery, intervalMs: 1_000, batch: 100, maxBackoffMs: 60_000 },
    {
      passFailed: (err) => log.warn({ err }, 'payment relay pass failed; retrying'),
      attempted: (d, attempt, err) => {
        metrics.paymentDeliveries.inc({ source: 'relay', outcome: attempt.toLowerCase() });
        if (err)
          log.warn(
            { err, orderId: d.orderId, paymentId: d.paymentId },
            'payment delivery failed; retried with backoff',
          );
      },
    },
  );
  const connection = await NativeConnection.connect(temporalConnectionOptions(config.temporal));
  const gate = createGate(createGateRedis(config));
  const code = workflowCode();
  worker = await Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...code,
    activities: createActivities({
      db,
      temporal: client,
      metrics,
      cache,
      gate,
      alertWebhook: config.alertWebhook,
      payments: {
        taskQueue: config.temporal.taskQueue,
        ttlSeconds: config.reservationTtlSeconds,
        backstop: { ...config.paymentDelivery, pageSize: 500 },
      },
    }),
    sinks: workerSinks(metrics),
    shutdownGraceTime: '10s',
  });
  const { host, port } = config.workerHttp;
  const running = worker;
  const metricsServer = serveWorkerHttp(metrics, () => running.getState(), config.workerHttp);
  log.info(
    `workflows: ${'workflowBundle' in code ? `prebuilt bundle ${code.workflowBundle.codePath}` : 'bundled from the sources'}`,
  );
  log.info(
    `polling ${config.temporal.taskQueue} on ${config.temporal.address}; metrics and health on ${host}:${port} (/metrics, /healthz)`,
  );
  try {
    await running.run();
    log.info('drained and stopped');
  } finally {
    metricsServer.close();
    await relay.stop();
    await eventRelay.stop();
    await natsChannel?.stop();
    await retention.stop();
    await webhooks.stop();
    await sagaRelay.stop();
    await paymentRelay.stop();
    cache.redis.disconnect();
    gate.disconnect();
    await connection.close();
    await closeConnection(client.connection);
    await db.$disconnect();
  }
}

if (require.main === module) {
  // Exits once the worker has shut down (SIGTERM/SIGINT/SIGHUP, once: in-flight activities get shutdownGraceTime).
  (async () => runWorker(loadConfig()))().then(
    () => process.exit(0),
    (err) => {
      if (err instanceof ConfigError) console.error(`[worker] configuration refused: ${err.message}`);
      else console.error('[worker] fatal', err);
      process.exit(1);
    },
  );
}
