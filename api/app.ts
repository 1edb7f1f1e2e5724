/**
 * Builds the Fastify application from its dependencies; listening and shutdown live in
 * server.ts, so tests drive the same app through `inject()`.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { AppDeps } from './deps';
import errorsPlugin from './plugins/errors';
import admin from './routes/admin';
import health from './routes/health';
import inventory from './routes/inventory';
import orders from './routes/orders';
import webhooks from './routes/webhooks';

export interface AppOptions {
  /** Pino logger settings; false in tests. */
  readonly logger?: boolean | { level: string };
}

export async function buildApp(deps: AppDeps, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? { level: deps.config.logLevel },
    bodyLimit: 256 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  app.decorate('deps', deps);

  await app.register(swagger, {
    openapi: {
      info: { title: 'stockhold', description: 'Inventory reservations that never oversell', version: '0.1.0' },
      components: { securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(errorsPlugin);
  await app.register(health);
  await app.register(orders);
  await app.register(webhooks);
  await app.register(inventory);
  await app.register(admin);
  return app;
}
