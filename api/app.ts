/**
 * Builds the Fastify application from its dependencies; listening and shutdown live in
 * server.ts, so tests drive the same app through `inject()`.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { holdPoolFor, HoldBatcher } from '../data/orders/request-hold';
import { warmPool } from '../data/db';
import { warmCampaignRead } from '../data/campaigns/campaign-queries';
import { loggerOptions } from '../platform/log';
import { SagaStarter } from '../use-cases/order-sagas';
import type { AppDeps } from './deps';
import type { HoldDeps } from '../use-cases/hold-order';
import { Scope } from '../domain/api-keys';
import audit from './plugins/audit';
import auth, { onOpsPort, SECURITY_SCHEME } from './plugins/auth';
import errorsPlugin, { frameworkErrors } from './plugins/errors';
import orderLimits from './plugins/order-limits';
import { coercingQueryStrings } from './plugins/validation';
import admin from './routes/admin';
import campaigns from './routes/campaigns';
import campaignAdmin from './routes/campaigns/admin';
import operatorConsole from './routes/console';
import alerts from './routes/alerts';
import events from './routes/events';
import eventSubscriptions from './routes/event-subscriptions';
import transfers from './routes/transfers';
import health from './routes/health';
import inventory from './routes/inventory';
import orders from './routes/orders';
import webhooks from './routes/webhooks';

export interface AppOptions {
  /** Pino logger settings (a level, and where to write in tests); false in tests. */
  readonly logger?: boolean | { level: string; stream?: { write(line: string): void } };
}

export async function buildApp(deps: AppDeps, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? loggerOptions('api', deps.config),
    // One line per request (onResponse below) rather than Fastify's two: the answer line says
    // what the request line said too.
    disableRequestLogging: true,
    // A request's own logger (binding its reqId) only at a level that writes request lines:
    // above it, no line carries the id, and a pino child per request cost ~3 µs of CPU
    // (BENCHMARKS.md, "Profile of a request").
    childLoggerFactory: (parent, bindings, opts) => (writesInfo(parent) ? parent.child(bindings, opts) : parent),
    bodyLimit: 256 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    schemaController: { compilersFactory: { buildValidator: coercingQueryStrings } },
    frameworkErrors,
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate('deps', deps);
  app.decorate('lifecycle', { draining: false });
  if (writesInfo(app.log))
    app.addHook('onResponse', (request, reply, done) => {
      request.log.info(
        {
          req: { method: request.method, url: request.url, remoteAddress: request.ip },
          res: { statusCode: reply.statusCode },
          responseTime: reply.elapsedTime,
        },
        'request completed',
      );
      done();
    });
  // Draining (api/server.ts): every answer closes its connection, so kept-alive clients move
  // to another replica instead of sending their next request into the closing listener.
  // (Callback hooks on every request: no promise per request on the hot path.)
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (app.lifecycle.draining) reply.header('connection', 'close');
    done(null, payload);
  });
  // The request path's hold: group commit per hot row, sagas started after the commit.
  const starter = new SagaStarter(
    deps.db,
    deps.temporal,
    deps.config.temporal.taskQueue,
    deps.config.sagaStartConcurrency,
    (err) => app.log.warn({ err }, 'saga start failed; the relay will start it'),
    deps.config.sagaStartDelayMs,
    deps.config.sagaStartTargetLatencyMs,
  );
  // The starts' backlog and window, for /metrics (read once a second: no work per request).
  const reportStarts = setInterval(() => {
    deps.metrics.sagaStartBacklog.set(starter.pending);
    deps.metrics.sagaStartWindow.set(starter.window.limit);
    deps.metrics.leftToRelay.set({ work: 'saga_start' }, starter.leftToRelay);
  }, 1_000).unref();
  app.addHook('onClose', async () => clearInterval(reportStarts));
  const holdPool = holdPoolFor(deps.config.databaseUrl, deps.config.database.holdPoolMax, deps.config.database);
  app.addHook('onClose', () => holdPool.end());
  const batcher = new HoldBatcher(deps.db, holdPool, deps.config.holdBatchMax, deps.config.holdBatchesInFlight);
  // Warm what the first order of a sale would otherwise pay for: a hold connection and the
  // campaign read (a cold first query costs a burst's first batch ~100 ms).
  app.addHook('onReady', async () => {
    await Promise.all([warmPool(holdPool), warmCampaignRead(deps.db)]).catch(() => undefined);
  });
  // Requests in flight: while a burst is being answered, saga starts (gRPC work in this
  // process, and CPU for Temporal on a shared host) wait, bounded by SAGA_START_MAX_DEFER_MS;
  // past it, while the burst goes on, the worker's relay starts them (DeferringQueue).
  // ('close' fires for every response, finished or aborted.)
  let inFlight = 0;
  const settled = () => {
    inFlight -= 1;
  };
  app.addHook('onRequest', (_request, reply, done) => {
    inFlight += 1;
    reply.raw.once('close', settled);
    done();
  });
  starter.busy = () => batcher.busy || inFlight >= deps.config.sagaStartBusyRequests;
  starter.maxDeferMs = deps.config.sagaStartMaxDeferMs;
  app.decorate('holds', {
    db: deps.db,
    batcher,
    starter,
    ttlSeconds: deps.config.reservationTtlSeconds,
  } satisfies HoldDeps);

  // First, so its method table (405 + Allow) sees every route, the documentation's too; then
  // access, before any route: every route's access is read as it is registered (plugins/auth.ts).
  await app.register(errorsPlugin);
  await app.register(auth);
  await app.register(audit);
  await app.register(orderLimits);
  await app.register(swagger, {
    openapi: {
      info: { title: 'stockhold', description: 'Inventory reservations that never oversell', version: '0.1.0' },
      // Relative: the API is wherever this document was fetched from (behind any proxy); the
      // copy served on the ops port names the API's port instead (apiServer below).
      servers: [{ url: '/', description: 'the server that serves this document' }],
      components: {
        securitySchemes: {
          [SECURITY_SCHEME]: {
            type: 'http',
            scheme: 'bearer',
            description:
              'An API key, sk_<id>_<secret> (npm run keys, POST /admin/keys), or the bootstrap ADMIN_TOKEN. Each operation names the scope it needs (x-scopes).',
          },
        },
      },
    },
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    uiHooks: { onRequest: app.guard(Scope.OPS) },
    // Served on the ops port, "/" would send "Try it out" there, where business routes are 404.
    transformSpecification: (spec, request) =>
      onOpsPort(request) ? { ...spec, servers: [apiServer(app, request)] } : spec,
  });
  await app.register(health);
  await app.register(orders);
  await app.register(webhooks);
  await app.register(inventory);
  await app.register(alerts);
  await app.register(events);
  await app.register(eventSubscriptions);
  await app.register(transfers);
  await app.register(admin);
  await app.register(campaigns);
  await app.register(campaignAdmin);
  // The operator console: its own cookies, form bodies and CSRF, encapsulated in its plugin.
  if (deps.config.console) await app.register(operatorConsole, { settings: deps.config.console });
  return app;
}

/** Whether `log` writes info lines (the request log); false for Fastify's silent logger of `logger: false`. */
function writesInfo(log: FastifyBaseLogger): boolean {
  return (log as Partial<Pick<Logger, 'isLevelEnabled'>>).isLevelEnabled?.('info') ?? false;
}

/**
 * The API as seen by a reader of the ops port's /docs: the host name they reached the ops
 * port by (Host header), on the port the API listens on (its bound port, so PORT=0 works).
 */
function apiServer(app: FastifyInstance, request: FastifyRequest): { url: string; description: string } {
  const bound = app.server.address() as AddressInfo | null;
  const port = bound?.port ?? app.deps.config.api.port;
  let url: URL;
  try {
    url = new URL(`${request.protocol}://${request.host}`);
  } catch {
    url = new URL(`${request.protocol}://${app.deps.config.api.host}`);
  }
  url.port = String(port);
  return { url: url.origin, description: 'the API (this document is served on the ops port)' };
}
