/**
 * GET /inventory/:sku — stock per warehouse and in total: from the cache when it has a
 * current entry, otherwise from PostgreSQL (which then fills the cache). Correct either way.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { readAvailability } from '../../../activities/cache/availability';
import { DomainError, ErrorCode } from '../../../domain/errors';
import { errors, Id } from '../../schemas';

const Level = Type.Object({ onHand: Type.Integer(), reserved: Type.Integer(), available: Type.Integer() });

const inventory: FastifyPluginAsyncTypebox = async (app) => {
  const { db, cache } = app.deps;
  app.get(
    '/inventory/:sku',
    {
      schema: {
        summary: 'On-hand, reserved and available stock of a SKU, per warehouse and in total',
        description: 'Served from the Redis cache when current, else from PostgreSQL. Never used to decide a reservation.',
        tags: ['inventory'],
        params: Type.Object({ sku: Id }),
        response: {
          200: Type.Object({
            sku: Type.String(),
            name: Type.String(),
            warehouses: Type.Array(Type.Composite([Type.Object({ warehouseCode: Type.String() }), Level])),
            total: Level,
          }),
          ...errors(400, 404),
        },
      },
    },
    async (request) => {
      const view = await readAvailability(db, cache, request.params.sku);
      if (!view) throw new DomainError(ErrorCode.SKU_NOT_FOUND, `no product ${request.params.sku}`);
      return view;
    },
  );
};

export default inventory;
