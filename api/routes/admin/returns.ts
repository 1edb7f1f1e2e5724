/**
 * POST /admin/returns — goods of a confirmed order come back, each line with its disposition:
 * RESTOCK (available again), DAMAGED or QC_HOLD (on hand, not sellable), WRITE_OFF (recorded,
 * no stock). Idempotent by `returnId`: the same body again answers the first outcome
 * (`replayed: true`); another body → 409 IDEMPOTENCY_CONFLICT.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { receiveReturn } from '../../../data/orders/returns';
import { Scope } from '../../../domain/api-keys';
import { Disposition } from '../../../domain/returns';
import { errors, Id, MAX_QUANTITY, refusals } from '../../schemas';

const LotCode = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' });
const Line = Type.Object(
  {
    sku: Id,
    warehouseCode: Type.String({
      pattern: '^[A-Za-z0-9_.-]{1,64}$',
      description: 'the warehouse receiving it: any, not only the one that shipped it',
    }),
    quantity: Type.Integer({ minimum: 1, maximum: MAX_QUANTITY }),
    disposition: Type.Union(Object.values(Disposition).map((d) => Type.Literal(d))),
    lotCode: Type.Optional({
      ...LotCode,
      description: 'lot-tracked SKUs: the lot it was sold from (may be left out when the order consumed one lot of it)',
    }),
  },
  { additionalProperties: false },
);
const Level = Type.Object({
  sku: Type.String(),
  warehouseCode: Type.String(),
  onHand: Type.Integer(),
  reserved: Type.Integer(),
  damaged: Type.Integer(),
  qualityControl: Type.Integer(),
  available: Type.Integer(),
});

const returns: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.deps;
  const actor = (request: FastifyRequest) => request.principal?.keyId;
  app.post(
    '/admin/returns',
    {
      config: { access: Scope.ADMIN },
      schema: {
        summary:
          'Receive returned goods of a confirmed order: restock, keep out as damaged or for quality control, or write off',
        description:
          'At most what the order sold minus what came back before, per SKU (and per lot); all lines or none. ' +
          'Lot-tracked SKUs return into the lot they were sold from; a lot past its removal date is refused (return it as WRITE_OFF). ' +
          'Once per returnId: the same body again answers the first outcome (replayed: true), another body 409 IDEMPOTENCY_CONFLICT.',
        tags: ['admin'],
        body: Type.Object(
          {
            returnId: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' }),
            orderId: Id,
            lines: Type.Array(Line, { minItems: 1, maxItems: 100 }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            returnId: Type.String(),
            orderId: Type.String(),
            lines: Type.Array(Line),
            levels: Type.Array(Level, { description: 'the levels the return changed, after it' }),
            replayed: Type.Boolean(),
          }),
          ...errors(404, 409),
          ...refusals({
            400: 'VALIDATION_FAILED when a lot-tracked SKU gets no lotCode and the order consumed several of its lots, or another SKU gets one',
          }),
        },
      },
    },
    async (request, reply) => reply.code(201).send(await receiveReturn(db, request.body, actor(request))),
  );
};

export default returns;
