/**
 * Liveness, readiness and Prometheus metrics. Ready means: not draining (SIGTERM) and
 * PostgreSQL answers. Redis and Temporal are reported but not required: reads fall back to
 * PostgreSQL, and the request path takes holds without Temporal (the saga starts later, from
 * the outbox), so a Temporal blip must not take every replica out of rotation at once.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Scope } from '../../../domain/api-keys';
import { ping } from '../../../data/db';

const CHECK_TIMEOUT_MS = 2_000;

async function probe(check: () => Promise<unknown>): Promise<'ok' | string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check(), timeout]);
    return 'ok';
  } catch (err) {
    return (err as Error).message || 'failed';
  } finally {
    clearTimeout(timer);
  }
}

const health: FastifyPluginAsyncTypebox = async (app) => {
  const { db, redis, temporal, metrics } = app.deps;

  app.get(
    '/healthz',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Liveness: the process answers',
        tags: ['ops'],
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({
      status: 'ok' as const,
    }),
  );

  const Ready = Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Type.String()) });
  app.get(
    '/readyz',
    {
      config: { access: 'public' },
      schema: {
        summary: 'Readiness: PostgreSQL reachable and not shutting down (Redis and Temporal reported, not required)',
        tags: ['ops'],
        response: { 200: Ready, 503: Ready },
      },
    },
    async (_request, reply) => {
      const [database, cache, workflow] = await Promise.all([
        probe(() => ping(db)),
        probe(() => redis.ping()),
        probe(() => temporal.workflowService.getSystemInfo({})),
      ]);
      const checks = { postgres: database, redis: cache, temporal: workflow };
      // Draining: out of rotation at once, while in-flight requests finish (api/server.ts).
      if (app.lifecycle.draining) return reply.code(503).send({ status: 'draining', checks });
      // Only PostgreSQL decides: a hold is taken there alone. Redis only accelerates reads;
      // Temporal closes the sagas afterwards (the outbox keeps them until it is back).
      const ready = database === 'ok';
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
    },
  );

  app.get(
    '/metrics',
    { config: { access: Scope.OPS }, schema: { summary: 'Prometheus metrics of the API process', tags: ['ops'] } },
    async (_request, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
};

export default health;
