/**
 * GET /inventory/:sku — stock of a SKU in every state, per warehouse (with lots) and in total:
 * from the cache when it has a current entry, otherwise from PostgreSQL (which then fills
 * the cache). Correct either way; never used to decide a reservation.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { readCachedAvailability } from '../../../data/cache/read-through';
import { DomainError, ErrorCode } from '../../../domain/errors';
import { errors, Id } from '../../schemas';
import { Scope } from '../../../domain/api-keys';

const Level = Type.Object({
  onHand: Type.Integer(),
  reserved: Type.Integer(),
  safetyStock: Type.Integer(),
  damaged: Type.Integer({ description: 'on hand, set aside as damaged (a move or a return): not sellable' }),
  qualityControl: Type.Integer({ description: 'on hand, held for quality control: not sellable' }),
  unsellable: Type.Integer({ description: 'in quarantined lots or lots past their removal date' }),
  incoming: Type.Integer({ description: 'in transit towards this warehouse' }),
  available: Type.Integer({
    description: 'onHand - reserved - safetyStock - damaged - qualityControl - unsellable, never below 0',
  }),
});

const Nullable = (t: ReturnType<typeof Type.String>) => Type.Union([t, Type.Null()]);

const Lot = Type.Object({
  lotCode: Type.String(),
  quantity: Type.Integer(),
  receivedAt: Type.String({ format: 'date-time' }),
  expiresAt: Nullable(Type.String({ format: 'date-time' })),
  alertAt: Nullable(Type.String({ format: 'date-time' })),
  removeAt: Nullable(Type.String({ format: 'date-time' })),
  state: Type.String({ description: 'SELLABLE, NEAR_EXPIRY, EXPIRED, QUARANTINED' }),
  quarantineReason: Nullable(Type.String()),
});

const inventory: FastifyPluginAsyncTypebox = async (app) => {
  const { db, cache } = app.deps;
  app.get(
    '/inventory/:sku',
    {
      config: { access: Scope.INVENTORY_READ },
      schema: {
        summary: 'Stock of a SKU in every state, per warehouse (with lots) and in total',
        description:
          'Served from the Redis cache when current, else from PostgreSQL. Never used to decide a reservation.',
        tags: ['inventory'],
        params: Type.Object({ sku: Id }),
        response: {
          200: Type.Object({
            sku: Type.String(),
            name: Type.String(),
            lotTracked: Type.Boolean(),
            warehouses: Type.Array(
              Type.Composite([Type.Object({ warehouseCode: Type.String(), lots: Type.Array(Lot) }), Level]),
            ),
            total: Level,
          }),
          ...errors(400, 404),
        },
      },
    },
    async (request) => {
      const view = await readCachedAvailability(db, cache, request.params.sku);
      if (!view) throw new DomainError(ErrorCode.SKU_NOT_FOUND, `no product ${request.params.sku}`);
      return view;
    },
  );
};

export default inventory;
