/**
 * Admin stock changes: receipts, adjustments, safety stock, lot quarantine, moves between
 * stock states (idempotent by their `moveId`). Every other one takes an Idempotency-Key header (a repeat answers `replayed: true`; the key with another body →
 * 409 IDEMPOTENCY_CONFLICT) and may carry `expectedQuantity`: when the stock is not what the
 * operator saw, 409 STALE_QUANTITY and nothing changes.
 */
import { Type, type FastifyPluginAsyncTypebox, type TProperties } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { adjustStock, receiveStock } from '../../../data/stock/stock-admin';
import { setLotQuarantine, setSafetyStock } from '../../../data/stock/stock-settings';
import { moveStock } from '../../../data/stock/stock-states';
import { AdjustReason, adjustDirection, MoveTarget, StockState } from '../../../domain/stock';
import { errors, Id, MAX_QUANTITY, refusals, Text } from '../../schemas';
import { Scope } from '../../../domain/api-keys';

const headers = Type.Object({ 'idempotency-key': Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' }) });
const Quantity = Type.Integer({ minimum: 1, maximum: MAX_QUANTITY });
const Expected = Type.Optional(
  Type.Integer({ minimum: 0, maximum: MAX_QUANTITY, description: 'compare-and-set: the quantity you expect to find' }),
);
const LotCode = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' });
const Replayed = { replayed: Type.Boolean() };
/** The answer to a change of on-hand: the level after it, plus what the change was. */
const LevelChange = (change: TProperties) =>
  Type.Object({
    sku: Type.String(),
    warehouseCode: Type.String(),
    lotCode: Type.Optional(Type.String()),
    ...change,
    onHand: Type.Integer(),
    reserved: Type.Integer(),
    ...Replayed,
  });
/** The direction rule of domain/stock.ts as schema: each reason with the sign of delta it allows. */
const reasonsGoing = (way: 'down' | 'up' | 'both') =>
  Object.values(AdjustReason).filter((r) => adjustDirection[r] === way);
const AdjustDirection = [
  { properties: { reasonCode: { enum: reasonsGoing('down') }, delta: { type: 'integer', maximum: -1 } } },
  { properties: { reasonCode: { enum: reasonsGoing('up') }, delta: { type: 'integer', minimum: 1 } } },
  { properties: { reasonCode: { enum: reasonsGoing('both') } } },
];

/** What only the product's settings decide (the schema cannot know them). */
const LOT_RULE =
  'VALIDATION_FAILED when a lot-tracked product gets no lotCode, another one gets one, or the lot exists with another use-by date';

const LevelParams = Type.Object({ sku: Id, warehouseCode: Id });
const LotParams = Type.Object({ sku: Id, warehouseCode: Id, lotCode: LotCode });
const QuarantineBody = Type.Object(
  { reason: Text({ maxLength: 200 }), expectedQuantity: Expected },
  { additionalProperties: false },
);
const LotOutcome = Type.Object({
  sku: Type.String(),
  warehouseCode: Type.String(),
  lotCode: Type.String(),
  quantity: Type.Integer(),
  quarantined: Type.Boolean(),
  // Optional: changes recorded before it existed replay without it.
  available: Type.Optional(
    Type.Integer({
      description: 'available after the change; below 0 when earlier holds now need more than is sellable (they stay)',
    }),
  ),
  ...Replayed,
});

const MoveBody = Type.Object(
  {
    moveId: Type.String({
      pattern: '^[A-Za-z0-9_.:-]{1,128}$',
      description: 'the move happens once per id; a repeat answers the first outcome',
    }),
    from: Type.Union(Object.values(StockState).map((v) => Type.Literal(v))),
    to: Type.Union(Object.values(MoveTarget).map((v) => Type.Literal(v))),
    quantity: Quantity,
    reason: Text({ maxLength: 100 }),
    lotCode: Type.Optional(LotCode),
  },
  { additionalProperties: false },
);
const Buckets = {
  onHand: Type.Integer(),
  reserved: Type.Integer(),
  damaged: Type.Integer(),
  qualityControl: Type.Integer(),
  available: Type.Integer(),
};
const MoveOutcome = Type.Object({
  moveId: Type.String(),
  sku: Type.String(),
  warehouseCode: Type.String(),
  from: Type.String(),
  to: Type.String(),
  quantity: Type.Integer(),
  lotCode: Type.Optional(Type.String()),
  ...Buckets,
  ...Replayed,
});

const adminStock: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.deps;
  const key = (h: { 'idempotency-key': string }) => h['idempotency-key'];
  // The key id the change is made for: its ledger rows record it.
  const actor = (request: FastifyRequest) => request.principal?.keyId;

  app.post(
    '/admin/receipts',
    {
      config: { access: Scope.ADMIN },
      schema: {
        summary: 'Receive goods into a warehouse, into a lot with its use-by date for perishables',
        tags: ['admin'],
        headers,
        body: Type.Object(
          {
            sku: Id,
            warehouseCode: Id,
            quantity: Quantity,
            reason: Text({ maxLength: 100 }),
            lotCode: Type.Optional(LotCode),
            expiresAt: Type.Optional(Type.String({ format: 'date-time', description: 'use-by date of the lot' })),
            receivedAt: Type.Optional(Type.String({ format: 'date-time' })),
            expectedQuantity: Expected,
          },
          { additionalProperties: false },
        ),
        response: {
          201: LevelChange({ quantity: Type.Integer(), reason: Type.String() }),
          ...errors(404, 409),
          ...refusals({ 400: LOT_RULE }),
        },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(await receiveStock(db, { idempotencyKey: key(request.headers), ...request.body }, actor(request))),
  );

  app.post(
    '/admin/adjustments',
    {
      config: { access: Scope.ADMIN },
      schema: {
        summary: 'Adjust on-hand with a reason code (count, damage, loss, expired, return, found)',
        tags: ['admin'],
        headers,
        body: Type.Object(
          {
            sku: Id,
            warehouseCode: Id,
            delta: Type.Integer({
              minimum: -MAX_QUANTITY,
              maximum: MAX_QUANTITY,
              not: { enum: [0] },
              description: 'never 0',
            }),
            reasonCode: Type.Union(Object.values(AdjustReason).map((r) => Type.Literal(r))),
            lotCode: Type.Optional(LotCode),
            note: Type.Optional(Text({ minLength: 0, maxLength: 200 })),
            expectedQuantity: Expected,
          },
          {
            additionalProperties: false,
            anyOf: AdjustDirection,
            description: `${reasonsGoing('down').join(', ')} take stock away (delta < 0); ${reasonsGoing('up').join(', ')} add it (delta > 0); COUNT either way`,
          },
        ),
        response: {
          201: LevelChange({ delta: Type.Integer(), reasonCode: Type.String() }),
          ...errors(404, 409),
          ...refusals({ 400: LOT_RULE }),
        },
      },
    },
    async (request, reply) =>
      reply
        .code(201)
        .send(await adjustStock(db, { idempotencyKey: key(request.headers), ...request.body }, actor(request))),
  );

  app.put(
    '/admin/levels/:sku/:warehouseCode/safety-stock',
    {
      config: { access: Scope.ADMIN },
      schema: {
        summary: 'Set the safety stock a warehouse keeps back from sale',
        tags: ['admin'],
        headers,
        params: LevelParams,
        body: Type.Object(
          { safetyStock: Type.Integer({ minimum: 0, maximum: MAX_QUANTITY }), expectedQuantity: Expected },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            sku: Type.String(),
            warehouseCode: Type.String(),
            safetyStock: Type.Integer(),
            previous: Type.Integer(),
            ...Replayed,
          }),
          ...errors(400, 404, 409),
        },
      },
    },
    async (request) =>
      setSafetyStock(db, { idempotencyKey: key(request.headers), ...request.params, ...request.body }, actor(request)),
  );

  app.post(
    '/admin/levels/:sku/:warehouseCode/moves',
    {
      config: { access: Scope.ADMIN },
      schema: {
        summary:
          'Move units between available, damaged and quality control, or write them off from one of those states',
        description:
          'AVAILABLE is what is not held, kept back or set aside: a move out of it never takes held units (409 MOVE_REFUSED). ' +
          'WRITE_OFF takes the units out of on-hand (and out of the named lot). Once per moveId: the same body again answers the first outcome (replayed: true), another body 409 IDEMPOTENCY_CONFLICT.',
        tags: ['admin'],
        params: LevelParams,
        body: MoveBody,
        response: {
          201: MoveOutcome,
          ...errors(404, 409),
          ...refusals({ 400: `from and to the same state; ${LOT_RULE}` }),
        },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await moveStock(db, { ...request.params, ...request.body }, actor(request))),
  );

  for (const action of ['quarantine', 'release'] as const) {
    app.post(
      `/admin/lots/:sku/:warehouseCode/:lotCode/${action}`,
      {
        config: { access: Scope.ADMIN },
        schema: {
          summary:
            action === 'quarantine'
              ? 'Quarantine a lot: it stops counting as available'
              : 'Release a lot from quarantine',
          tags: ['admin'],
          headers,
          params: LotParams,
          body: QuarantineBody,
          response: { 200: LotOutcome, ...errors(400, 404, 409) },
        },
      },
      async (request) =>
        setLotQuarantine(
          db,
          {
            idempotencyKey: key(request.headers),
            ...request.params,
            ...request.body,
            quarantined: action === 'quarantine',
          },
          actor(request),
        ),
    );
  }
};

export default adminStock;
