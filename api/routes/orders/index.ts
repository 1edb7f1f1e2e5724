/** Order API: place (reserve), read, cancel. */
import rateLimit from '@fastify/rate-limit';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DomainError, ErrorCode } from '../../../domain/errors';
import type { ReserveOutcome } from '../../../domain/types';
import { errors, Id, OrderLineSchema, ShortageSchema } from '../../schemas';
import { cancelOrder, getOrder, placeOrder } from './service';

const ReservationBody = Type.Object({
  orderId: Type.String(),
  status: Type.Literal('RESERVED'),
  reservationId: Type.String(),
  lines: Type.Array(OrderLineSchema),
  expiresAt: Type.String({ format: 'date-time' }),
});

const OrderStateBody = Type.Object({
  orderId: Type.String(),
  userId: Type.String(),
  status: Type.String({ description: 'RESERVING, AWAITING_PAYMENT, CONFIRMING, RELEASING, CONFIRMED, RELEASED, REJECTED, REFUND_REQUIRED' }),
  lines: Type.Array(OrderLineSchema),
  expiresAt: Type.Optional(Type.String()),
  releaseReason: Type.Optional(Type.String()),
  releasedAt: Type.Optional(Type.String()),
  refundReason: Type.Optional(Type.String()),
  lateConfirmed: Type.Optional(Type.Boolean()),
  payment: Type.Optional(Type.Object({ eventId: Type.String(), paymentId: Type.String(), amountCents: Type.Integer() })),
  extraPayments: Type.Array(Type.Object({ paymentId: Type.String(), amountCents: Type.Integer() })),
  shortages: Type.Optional(Type.Array(ShortageSchema)),
  latePayments: Type.Array(Type.Object({ eventId: Type.String(), paymentId: Type.String(), result: Type.String() })),
});

/** Maps a refused reserve to its error; the HTTP status comes from the error table. */
function rejection(outcome: Exclude<ReserveOutcome, { status: 'reserved' }>): DomainError {
  switch (outcome.reason) {
    case 'INSUFFICIENT_STOCK':
      return new DomainError(ErrorCode.INSUFFICIENT_STOCK, 'not enough stock for every line', { shortages: outcome.shortages });
    case 'ALREADY_RELEASED':
      return new DomainError(ErrorCode.ALREADY_RELEASED, 'this order was cancelled before its stock was held');
    case 'SERVICE_UNAVAILABLE':
      return new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'stock could not be reserved in time; nothing is held');
  }
}

const orders: FastifyPluginAsyncTypebox = async (app) => {
  const { temporal, config, metrics, db } = app.deps;
  // Per-process, in memory: admission must not depend on Redis being up.
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_request, context) =>
      new DomainError(ErrorCode.RATE_LIMITED, `too many orders from this user; retry in ${context.after}`, { retryAfter: context.after }),
  });

  app.post(
    '/orders',
    {
      schema: {
        summary: 'Place an order: hold its stock until payment or expiry',
        description: 'Idempotent by orderId: the same request again returns the same answer and takes no second hold.',
        tags: ['orders'],
        body: Type.Object(
          { orderId: Id, userId: Id, lines: Type.Array(OrderLineSchema, { minItems: 1, maxItems: 100 }) },
          { additionalProperties: false },
        ),
        response: { 201: ReservationBody, ...errors(400, 409, 429, 503) },
      },
      // Keyed by the user in the (validated) body, hence after validation.
      config: {
        rateLimit: {
          max: config.orderRateLimitPerMinute,
          timeWindow: 60_000,
          hook: 'preHandler',
          keyGenerator: (request) => `user:${(request.body as { userId?: string } | undefined)?.userId ?? request.ip}`,
        },
      },
    },
    async (request, reply) => {
      const order = request.body;
      request.log = request.log.child({ orderId: order.orderId });
      const outcome = await placeOrder(temporal, config.temporal.taskQueue, config.reservationTtlSeconds, order).catch((err) => {
        metrics.orders.inc({ outcome: err instanceof DomainError ? err.code : 'error' });
        throw err;
      });
      if (outcome.status !== 'reserved') {
        metrics.orders.inc({ outcome: outcome.reason });
        throw rejection(outcome);
      }
      metrics.orders.inc({ outcome: 'reserved' });
      request.log.info({ reservationId: outcome.reservationId }, 'order reserved');
      const { reservationId, lines, expiresAt } = outcome;
      return reply.code(201).send({ orderId: order.orderId, status: 'RESERVED' as const, reservationId, lines: [...lines], expiresAt });
    },
  );

  app.get(
    '/orders/:orderId',
    {
      schema: {
        summary: 'Saga state of an order, with any late-payment settlements',
        tags: ['orders'],
        params: Type.Object({ orderId: Id }),
        response: { 200: OrderStateBody, ...errors(400, 404) },
      },
    },
    async (request) => {
      const state = await getOrder(temporal, request.params.orderId);
      const late = await db.paymentEvent.findMany({
        where: { orderId: state.orderId, NOT: { result: 'DELIVERED' } },
        orderBy: { receivedAt: 'asc' },
        select: { eventId: true, paymentId: true, result: true },
      });
      const { reservation, ...rest } = state;
      const shortages = reservation?.status === 'rejected' && reservation.reason === 'INSUFFICIENT_STOCK' ? [...reservation.shortages] : undefined;
      return { ...rest, lines: [...rest.lines], shortages, latePayments: late };
    },
  );

  app.post(
    '/orders/:orderId/cancel',
    {
      schema: {
        summary: 'Cancel an order awaiting payment; its hold is released',
        tags: ['orders'],
        params: Type.Object({ orderId: Id }),
        body: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 200 })) }, { additionalProperties: false }),
        response: { 202: Type.Object({ orderId: Type.String(), status: Type.Literal('CANCELLING') }), ...errors(400, 404, 409) },
      },
      // The body is optional: a bare POST cancels with a default reason.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const { orderId } = request.params;
      await cancelOrder(temporal, orderId, request.body.reason ?? 'cancelled by request');
      return reply.code(202).send({ orderId, status: 'CANCELLING' as const });
    },
  );
};

export default orders;
