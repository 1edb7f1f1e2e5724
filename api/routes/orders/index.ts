/** Order API: place (reserve), read, cancel. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DomainError } from '../../../domain/errors';
import type { ConsumedLot } from '../../../domain/stock';
import { withLateSettlements } from '../../../data/stock/order-view';
import { readPayments } from '../../../data/stock/payments';
import {
  AllocationNoteSchema,
  AmountCents,
  AllocationPreferencesSchema,
  errors,
  Id,
  OrderLineSchema,
  RequestedLineSchema,
  ShortageSchema,
  Text,
} from '../../schemas';
import { Scope } from '../../../domain/api-keys';
import { rejection } from './rejection';
import { holdOrder } from './hold';
import { cancelOrder, getOrder } from './service';

const ReservationBody = Type.Object({
  orderId: Type.String(),
  status: Type.Literal('RESERVED'),
  reservationId: Type.String(),
  lines: Type.Array(OrderLineSchema),
  allocations: Type.Array(AllocationNoteSchema),
  expiresAt: Type.String({ format: 'date-time' }),
});

const OrderStateBody = Type.Object({
  orderId: Type.String(),
  userId: Type.String(),
  status: Type.String({ description: 'RESERVING, AWAITING_PAYMENT, CONFIRMING, RELEASING, BACKORDERED, CONFIRMED, RELEASED, REJECTED, REFUND_REQUIRED' }),
  lines: Type.Array(RequestedLineSchema),
  allocation: Type.Optional(AllocationPreferencesSchema),
  allocations: Type.Optional(Type.Array(AllocationNoteSchema, { description: 'where each line was held, and why' })),
  consumedLots: Type.Optional(
    Type.Array(
      Type.Object({
        sku: Type.String(),
        warehouseCode: Type.String(),
        lotCode: Type.String(),
        quantity: Type.Integer(),
        expiresAt: Type.Union([Type.String(), Type.Null()]),
        sellable: Type.Boolean(),
      }),
      { description: 'lots the confirmation consumed, first-expiring first (lot-tracked SKUs)' },
    ),
  ),
  expiresAt: Type.Optional(Type.String()),
  expectedShipDate: Type.Optional(Type.String({ description: 'pre-orders: when the goods are expected to ship' })),
  releaseReason: Type.Optional(Type.String()),
  releasedAt: Type.Optional(Type.String()),
  refundReason: Type.Optional(Type.String()),
  lateConfirmed: Type.Optional(Type.Boolean()),
  payment: Type.Optional(Type.Object({ eventId: Type.String(), paymentId: Type.String(), amountCents: Type.Integer() })),
  extraPayments: Type.Array(Type.Object({ paymentId: Type.String(), amountCents: Type.Integer() })),
  payments: Type.Array(
    Type.Object({
      paymentId: Type.String(),
      eventId: Type.String(),
      amountCents: Type.Integer(),
      state: Type.String({ description: 'PENDING, CONFIRMED, BACKORDERED, REFUND_REQUIRED, DUPLICATE_CHARGE, AMOUNT_MISMATCH' }),
      reason: Type.Union([Type.String(), Type.Null()]),
      reservationId: Type.Union([Type.String(), Type.Null()], { description: 'the hold it paid for (`<orderId>:late` when re-reserved)' }),
      receivedAt: Type.String({ format: 'date-time' }),
      settledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    }),
    { description: 'every payment reported for the order, as stored in PostgreSQL, and how it was settled' },
  ),
  shortages: Type.Optional(Type.Array(ShortageSchema)),
  latePayments: Type.Array(Type.Object({ eventId: Type.String(), paymentId: Type.String(), result: Type.String() })),
});

const orders: FastifyPluginAsyncTypebox = async (app) => {
  const { temporal, config, metrics, db } = app.deps;
  app.post(
    '/orders',
    {
      config: { access: Scope.ORDERS },
      schema: {
        summary: 'Place an order: hold its stock until payment or expiry',
        description: 'Idempotent by orderId: the same request again returns the same answer and takes no second hold.',
        tags: ['orders'],
        body: Type.Object(
          {
            orderId: Id,
            userId: Id,
            lines: Type.Array(RequestedLineSchema, { minItems: 1, maxItems: 100 }),
            allocation: Type.Optional(AllocationPreferencesSchema),
            amountCents: Type.Optional({ ...AmountCents, description: 'what the order costs; a payment of another amount is not confirmed (AMOUNT_MISMATCH)' }),
          },
          { additionalProperties: false },
        ),
        response: { 201: ReservationBody, ...errors(400, 409, 429, 503) },
      },
      // Per API key and per user (in the validated body), shared by every replica.
      preHandler: app.limitOrders,
    },
    async (request, reply) => {
      const order = request.body;
      request.log = request.log.child({ orderId: order.orderId });
      const outcome = await holdOrder(app.holds, order, { actor: request.principal?.keyId }).catch((err) => {
        metrics.orders.inc({ outcome: err instanceof DomainError ? err.code : 'error' });
        throw err;
      });
      if (outcome.status !== 'reserved') {
        metrics.orders.inc({ outcome: outcome.reason });
        throw rejection(outcome);
      }
      metrics.orders.inc({ outcome: 'reserved' });
      request.log.info({ reservationId: outcome.reservationId }, 'order reserved');
      const { reservationId, lines, allocations, expiresAt } = outcome;
      return reply
        .code(201)
        .send({ orderId: order.orderId, status: 'RESERVED' as const, reservationId, lines: [...lines], allocations: [...allocations], expiresAt });
    },
  );

  app.get(
    '/orders/:orderId',
    {
      config: { access: Scope.ORDERS },
      schema: {
        summary: 'Saga state of an order, with any late-payment settlements',
        tags: ['orders'],
        params: Type.Object({ orderId: Id }),
        response: { 200: OrderStateBody, ...errors(400, 404) },
      },
    },
    async (request) => {
      const saga = await getOrder(temporal, db, request.params.orderId);
      const payments = await readPayments(db, saga.orderId);
      // A payment settled after the saga ended (a late-payment workflow) tells how the order ended.
      const state = withLateSettlements(saga, payments);
      const late = await db.paymentEvent.findMany({
        where: { orderId: state.orderId, NOT: { result: 'DELIVERED' } },
        orderBy: { receivedAt: 'asc' },
        select: { eventId: true, paymentId: true, result: true },
      });
      const { reservation, ...rest } = state;
      const shortages = reservation?.status === 'rejected' && reservation.reason === 'INSUFFICIENT_STOCK' ? [...reservation.shortages] : undefined;
      const allocations = reservation?.status === 'reserved' ? [...reservation.allocations] : undefined;
      const expectedShipDate = reservation?.status === 'reserved' ? reservation.expectedShipDate : undefined;
      const held = await db.reservation.findUnique({ where: { id: state.orderId }, select: { consumedLots: true } });
      const consumedLots = (held?.consumedLots as ConsumedLot[] | null) ?? undefined;
      return { ...rest, lines: [...rest.lines], allocations, consumedLots, shortages, expectedShipDate, latePayments: late, payments };
    },
  );

  app.post(
    '/orders/:orderId/cancel',
    {
      config: { access: Scope.ORDERS },
      schema: {
        summary: 'Cancel an order awaiting payment; its hold is released',
        tags: ['orders'],
        params: Type.Object({ orderId: Id }),
        body: Type.Object({ reason: Type.Optional(Text({ minLength: 0, maxLength: 200 })) }, { additionalProperties: false }),
        response: { 202: Type.Object({ orderId: Type.String(), status: Type.Literal('CANCELLING') }), ...errors(400, 404, 409) },
      },
      // The body is optional: a bare POST cancels with a default reason.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const { orderId } = request.params;
      await cancelOrder(temporal, db, config.temporal.taskQueue, orderId, request.body.reason ?? 'cancelled by request');
      return reply.code(202).send({ orderId, status: 'CANCELLING' as const });
    },
  );
};

export default orders;
