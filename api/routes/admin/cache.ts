/** Admin API: the cache consistency checker's recorded results (registered inside the admin plugin, behind its token guard). */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { recentChecks } from '../../../data/cache/checker';
import { errors } from '../../schemas';
import { Scope } from '../../../domain/api-keys';

const CheckBody = Type.Object({
  id: Type.String(),
  checkedAt: Type.String({ format: 'date-time' }),
  hot: Type.Integer({ description: 'hot SKUs (most ordered in the last 24 h) checked' }),
  sampled: Type.Integer({ description: 'randomly sampled SKUs checked' }),
  compared: Type.Integer({ description: 'checked SKUs that had a cache entry' }),
  drifted: Type.Integer(),
  driftRatio: Type.Number(),
  rebuilt: Type.Boolean({ description: 'drift passed CACHE_CHECK_DRIFT_PERCENT: the whole cache was rebuilt' }),
  drifts: Type.Array(Type.Object({ sku: Type.String(), cachedVersion: Type.String(), dbVersion: Type.String() })),
});

const cacheChecks: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.deps;
  app.get(
    '/admin/cache/checks',
    {
      config: { access: Scope.ADMIN },
      schema: {
        summary: 'Results of the latest cache consistency checks, newest first',
        tags: ['admin'],
        querystring: Type.Object(
          { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 20 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ checks: Type.Array(CheckBody) }), ...errors(400) },
      },
    },
    async (request) => ({ checks: await recentChecks(db, request.query.limit ?? 20) }),
  );
};

export default cacheChecks;
