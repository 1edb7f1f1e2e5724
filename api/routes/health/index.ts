/** Liveness and readiness (PostgreSQL, Redis, Temporal), open to probes; Prometheus metrics (scope `ops`, or the ops port). */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Scope } from '../../../domain/api-keys';

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

  app.get('/healthz', { config: { access: 'public' }, schema: { summary: 'Liveness: the process answers', tags: ['ops'], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({
    status: 'ok' as const,
  }));

  const Ready = Type.Object({ status: Type.String(), checks: Type.Record(Type.String(), Type.String()) });
  app.get(
    '/readyz',
    { config: { access: 'public' }, schema: { summary: 'Readiness: PostgreSQL and Temporal reachable (Redis reported, not required)', tags: ['ops'], response: { 200: Ready, 503: Ready } } },
    async (_request, reply) => {
      const [database, cache, workflow] = await Promise.all([
        probe(() => db.$queryRaw`SELECT 1`),
        probe(() => redis.ping()),
        probe(() => temporal.workflowService.getSystemInfo({})),
      ]);
      const checks = { postgres: database, redis: cache, temporal: workflow };
      // Redis only accelerates reads (they fall back to PostgreSQL): its loss is reported,
      // but must not take the service out of rotation.
      const ready = database === 'ok' && workflow === 'ok';
      return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks });
    },
  );

  app.get('/metrics', { config: { access: Scope.OPS }, schema: { summary: 'Prometheus metrics of the API process', tags: ['ops'] } }, async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
};

export default health;
