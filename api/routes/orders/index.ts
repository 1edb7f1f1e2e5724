/** Order API: place (reserve), read, cancel. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { DomainError, ErrorCode } from '../../../domain/errors';
import { readCancel, withLateSettlements } from '../../../data/orders/order-view';
import { readPayments, undeliveredPaymentEvents } from '../../../data/payments/payments';
import { lifecycleEvents } from '../../../data/payments/payment-events';
import { consumedLots } from '../../../data/orders/queries';
import { listOrders, ORDERS_KEY, ORDERS_LIST } from '../../../data/orders/lists';
import { ReservationStatus } from '../../../domain/types';
import {
  AllocationNoteSchema,
  AmountCents,
  AllocationPreferencesSchema,
  errors,
  Id,
  OrderLineSchema,
  RequestedLineSchema,
  Instant,
  PageOf,
  pageOf,
  PageQuery,
  refusals,
  ShortageSchema,
  Text,
} from '../../schemas';
import { Scope } from '../../../domain/api-keys';
import { rejection } from '../../rejection';
import { holdOrder } from '../../../use-cases/hold-order';
import { editOrderAndTell } from '../../../use-cases/edit-order';
import { assertOwnOrder, cancelIgnored, cancelOrder, readOrder, type OrderReads } from '../../../use-cases/orders';
import { extendHold } from '../../../use-cases/extend-hold';
import { ExtensionSource } from '../../../domain/hold-extensions';

const OrderListRow = Type.Object({
  orderId: Type.String(),
  userId: Type.String(),
  status: Type.String({ description: 'RESERVED, CONFIRMED, RELEASED, BACKORDERED, REFUND_REQUIRED (as stored)' }),
  campaignId: Type.Union([Type.String(), Type.Null()]),
  amountCents: Type.Union([Type.Integer(), Type.Null()]),
  paymentId: Type.Union([Type.String(), Type.Null()]),
  releaseReason: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  lines: Type.Array(OrderLineSchema),
});

const at = (iso?: string) => (iso === undefined ? undefined : new Date(iso));

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
  source: Type.Union([Type.Literal('saga'), Type.Literal('database')], {
    description:
      'who answered: the saga (its query, within ORDER_QUERY_TIMEOUT_MS), or PostgreSQL (no saga, or none answering in time)',
  }),
  userId: Type.String(),
  status: Type.String({
    description:
      'RESERVING, AWAITING_PAYMENT, CONFIRMING, RELEASING, BACKORDERED, CONFIRMED, RELEASED, REJECTED, REFUND_REQUIRED',
  }),
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
  cancelIgnored: Type.Optional(
    Type.Boolean({ description: 'a cancel was accepted (202) but the order did not end cancelled' }),
  ),
  cancelIgnoredReason: Type.Optional(
    Type.String({
      description:
        'PAID (a payment settled before the cancel reached the saga), EXPIRED (the hold was released first), REJECTED (the reserve was refused)',
    }),
  ),
  payment: Type.Optional(
    Type.Object({ eventId: Type.String(), paymentId: Type.String(), amountCents: Type.Integer() }),
  ),
  extraPayments: Type.Array(Type.Object({ paymentId: Type.String(), amountCents: Type.Integer() })),
  payments: Type.Array(
    Type.Object({
      paymentId: Type.String(),
      eventId: Type.String(),
      amountCents: Type.Integer(),
      currency: Type.Union([Type.String(), Type.Null()], {
        description: 'ISO 4217, beside amountCents (null: the provider did not say)',
      }),
      state: Type.String({
        description: 'PENDING, CONFIRMED, BACKORDERED, REFUND_REQUIRED, DUPLICATE_CHARGE, AMOUNT_MISMATCH, REFUNDED',
      }),
      reason: Type.Union([Type.String(), Type.Null()]),
      reservationId: Type.Union([Type.String(), Type.Null()], {
        description: 'the hold it paid for (`<orderId>:late` when re-reserved)',
      }),
      receivedAt: Type.String({ format: 'date-time' }),
      settledAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    }),
    { description: 'every payment reported for the order, as stored in PostgreSQL, and how it was settled' },
  ),
  shortages: Type.Optional(Type.Array(ShortageSchema)),
  latePayments: Type.Array(Type.Object({ eventId: Type.String(), paymentId: Type.String(), result: Type.String() })),
  paymentEvents: Type.Array(
    Type.Object({
      eventId: Type.String(),
      type: Type.String({ description: 'payment.pending, payment.failed, payment.canceled, payment.refunded' }),
      paymentId: Type.String(),
      amountCents: Type.Integer(),
      result: Type.String({ description: 'the answer the provider got (EXTENDED, RECORDED, RELEASING, REFUNDED, …)' }),
      receivedAt: Type.String({ format: 'date-time' }),
    }),
    {
      description:
        "the provider's events on the order's payments other than a payment made, oldest first: a failed attempt leaves the hold waiting",
    },
  ),
});

const orders: FastifyPluginAsyncTypebox = async (app) => {
  const { temporal, config, metrics, db } = app.deps;
  const reads = (request: FastifyRequest): OrderReads => ({
    temporal,
    db,
    queryTimeoutMs: config.orderQueryTimeoutMs,
    onFallback: (orderId, cause) =>
      request.log.warn({ orderId, cause }, 'the order saga did not answer in time: PostgreSQL answers'),
  });
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
            amountCents: Type.Optional({
              ...AmountCents,
              description: 'what the order costs; a payment of another amount is not confirmed (AMOUNT_MISMATCH)',
            }),
            holdSeconds: Type.Optional(
              Type.Integer({
                minimum: 1,
                maximum: 7 * 24 * 3600,
                description:
                  "this order's own hold time, within HOLD_SECONDS_MIN..HOLD_SECONDS_MAX (default RESERVATION_TTL_SECONDS)",
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          201: ReservationBody,
          ...errors(409, 429, 503),
          ...refusals({
            400: 'VALIDATION_FAILED when the body does not match, or holdSeconds is outside HOLD_SECONDS_MIN..HOLD_SECONDS_MAX',
          }),
        },
      },
      // Per API key and per user (in the validated body), shared by every replica.
      preHandler: app.limitOrders,
    },
    async (request, reply) => {
      const { holdSeconds, ...order } = request.body;
      request.log = request.log.child({ orderId: order.orderId });
      const { min, max } = config.holdSeconds;
      if (holdSeconds !== undefined && (holdSeconds < min || holdSeconds > max)) {
        throw new DomainError(ErrorCode.VALIDATION_FAILED, `holdSeconds must be within ${min}..${max}`, {
          holdSeconds,
          min,
          max,
        });
      }
      const outcome = await holdOrder(app.holds, order, { actor: request.principal?.keyId, holdSeconds }).catch(
        (err) => {
          metrics.orders.inc({ outcome: err instanceof DomainError ? err.code : 'error' });
          throw err;
        },
      );
      if (outcome.status !== 'reserved') {
        metrics.orders.inc({ outcome: outcome.reason });
        throw rejection(outcome);
      }
      metrics.orders.inc({ outcome: 'reserved' });
      request.log.info({ reservationId: outcome.reservationId }, 'order reserved');
      const { reservationId, lines, allocations, expiresAt } = outcome;
      return reply.code(201).send({
        orderId: order.orderId,
        status: 'RESERVED' as const,
        reservationId,
        lines: [...lines],
        allocations: [...allocations],
        expiresAt,
      });
    },
  );

  app.post(
    '/orders/:orderId/edit',
    {
      config: { access: Scope.ORDERS },
      schema: {
        summary: "Edit an order's lines or amount while it waits for payment (idempotent by editId)",
        description:
          'The complete new set of lines: only the differences move (an increase takes stock, a decrease gives it back), all or nothing. ' +
          'Refused once a payment exists, for campaign and pre-sale orders, and on a stale expectedVersion.',
        tags: ['orders'],
        params: Type.Object({ orderId: Id }),
        body: Type.Object(
          {
            editId: Id,
            lines: Type.Array(OrderLineSchema, { minItems: 1, maxItems: 100 }),
            amountCents: Type.Optional(AmountCents),
            expectedVersion: Type.Optional(
              Type.Integer({
                minimum: 0,
                maximum: 1_000_000,
                description: "the order's version as last read (0 as placed)",
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            orderId: Type.String(),
            editId: Type.String(),
            version: Type.Integer(),
            lines: Type.Array(OrderLineSchema),
            amountCents: Type.Union([Type.Integer(), Type.Null()]),
            moved: Type.Array(
              Type.Object({ sku: Type.String(), warehouseCode: Type.String(), delta: Type.Integer() }),
              {
                description: 'units taken (+) or given back (-) per level; empty for a price-only edit',
              },
            ),
            replayed: Type.Boolean(),
          }),
          ...errors(400, 404, 503),
          ...refusals({
            409: 'NOT_EDITABLE (a payment exists, a campaign or pre-sale order, no longer held), STALE_VERSION, INSUFFICIENT_STOCK (details.shortages), IDEMPOTENCY_CONFLICT',
          }),
        },
      },
    },
    async (request) => {
      const { orderId } = request.params;
      await assertOwnOrder(db, orderId, request.principal);
      const deps = { db, temporal, taskQueue: config.temporal.taskQueue };
      return editOrderAndTell(deps, { orderId, ...request.body }, request.principal?.keyId);
    },
  );

  app.get(
    '/orders',
    {
      config: { access: Scope.ORDERS },
      schema: {
        summary: 'Orders that took a hold, newest first',
        description:
          'As PostgreSQL records them (a refused order holds nothing and is not listed). A key without scope admin sees the orders it placed.',
        tags: ['orders'],
        querystring: Type.Object(
          {
            status: Type.Optional(Type.Union(Object.values(ReservationStatus).map((s) => Type.Literal(s)))),
            user: Type.Optional(Text({ maxLength: 128 })),
            sku: Type.Optional(Id),
            campaign: Type.Optional(Id),
            createdFrom: Type.Optional(Instant),
            createdTo: Type.Optional(Instant),
            ...PageQuery,
          },
          { additionalProperties: false },
        ),
        response: { 200: PageOf(OrderListRow, 'a page of orders'), ...errors(400) },
      },
    },
    async (request) => {
      const { status, user, sku, campaign, createdFrom, createdTo } = request.query;
      const { limit, after } = pageOf(ORDERS_LIST, ORDERS_KEY, request.query);
      const caller = request.principal;
      const placedBy = caller && !caller.scopes.has(Scope.ADMIN) ? caller.keyId : undefined;
      const filter = {
        status,
        userId: user,
        sku,
        campaignId: campaign,
        from: at(createdFrom),
        to: at(createdTo),
        placedBy,
      };
      return listOrders(db, filter, limit, after);
    },
  );

  app.get(
    '/orders/:orderId',
    {
      config: { access: Scope.ORDERS },
      schema: {
        summary: 'Saga state of an order, with any late-payment settlements',
        description:
          "From the saga when it answers within ORDER_QUERY_TIMEOUT_MS, else from PostgreSQL (`source` says which). Another key's order is 404 (except for scope admin).",
        tags: ['orders'],
        params: Type.Object({ orderId: Id }),
        response: { 200: OrderStateBody, ...errors(400, 404) },
      },
    },
    async (request) => {
      const { orderId } = request.params;
      await assertOwnOrder(db, orderId, request.principal);
      const { state: current, source } = await readOrder(reads(request), orderId);
      metrics.orderReads.inc({ source });
      const [payments, cancel] = await Promise.all([readPayments(db, orderId), readCancel(db, orderId)]);
      // A payment settled after the saga ended (a late-payment workflow) tells how the order ended.
      const state = withLateSettlements(current, payments);
      const [late, paymentEvents] = await Promise.all([
        undeliveredPaymentEvents(db, state.orderId),
        lifecycleEvents(db, state.orderId),
      ]);
      const { reservation, ...rest } = state;
      const shortages =
        reservation?.status === 'rejected' && reservation.reason === 'INSUFFICIENT_STOCK'
          ? [...reservation.shortages]
          : undefined;
      const allocations = reservation?.status === 'reserved' ? [...reservation.allocations] : undefined;
      const expectedShipDate = reservation?.status === 'reserved' ? reservation.expectedShipDate : undefined;
      const lots = await consumedLots(db, state.orderId);
      const ignored = cancelIgnored(state, cancel);
      return {
        ...rest,
        source,
        lines: [...rest.lines],
        allocations,
        consumedLots: lots,
        shortages,
        expectedShipDate,
        latePayments: late,
        paymentEvents,
        payments,
        ...(ignored ? { cancelIgnored: true, cancelIgnoredReason: ignored } : {}),
      };
    },
  );

  app.post(
    '/orders/:orderId/cancel',
    {
      config: { access: Scope.ORDERS },
      schema: {
        summary: 'Cancel an order awaiting payment; its hold is released',
        description:
          'Idempotent: a retried cancel gets the first answer (202), even once the hold is released or a payment overtook the cancel (then GET /orders/:id says cancelIgnored).',
        tags: ['orders'],
        params: Type.Object({ orderId: Id }),
        body: Type.Object(
          { reason: Type.Optional(Text({ minLength: 0, maxLength: 200 })) },
          { additionalProperties: false },
        ),
        response: {
          202: Type.Object({ orderId: Type.String(), status: Type.Literal('CANCELLING') }),
          ...errors(400, 404, 409, 503, 504),
        },
      },
      // The body is optional: a bare POST cancels with a default reason.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const { orderId } = request.params;
      await assertOwnOrder(db, orderId, request.principal);
      const first = await cancelOrder(
        { ...reads(request), taskQueue: config.temporal.taskQueue, waitTimeoutMs: config.workflowWaitTimeoutMs },
        orderId,
        request.body.reason ?? 'cancelled by request',
      );
      return reply.code(202).send({ orderId: first.orderId, status: first.status });
    },
  );

  app.post(
    '/orders/:orderId/extend',
    {
      config: { access: Scope.ORDERS },
      schema: {
        summary: 'Extend a hold still waiting for its payment (a 3-D Secure challenge that outlasts the TTL)',
        description:
          "Moves the hold's expiry `seconds` later, if PostgreSQL still holds it unexpired (one guarded UPDATE); the saga's timer follows. " +
          'Idempotent by extensionId: a repeat gets the first answer, granted or refused. Within HOLD_EXTENSION_MAX_SECONDS per extension, ' +
          'HOLD_EXTENSION_MAX_TOTAL_SECONDS in all and HOLD_EXTENSION_MAX_COUNT extensions. Refused for a pre-order, and for a flash-sale order unless its campaign allows it.',
        tags: ['orders'],
        params: Type.Object({ orderId: Id }),
        body: Type.Object(
          {
            extensionId: Type.String({
              pattern: '^[A-Za-z0-9_.:-]{1,128}$',
              description: "the caller's id of this extension: a retry with it gets the first answer",
            }),
            seconds: Type.Integer({
              minimum: 1,
              maximum: 7 * 24 * 3600,
              description: 'how much later the hold expires (capped by HOLD_EXTENSION_MAX_SECONDS)',
            }),
            reason: Text({ maxLength: 200, description: 'why, for the record (e.g. "3-D Secure challenge")' }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            orderId: Type.String(),
            extensionId: Type.String(),
            status: Type.Literal('EXTENDED'),
            expiresAt: Type.String({ format: 'date-time', description: "the hold's new expiry" }),
            extensionCount: Type.Integer({ description: 'extensions of this hold so far' }),
            extendedSeconds: Type.Integer({ description: 'seconds they added in all' }),
          }),
          ...errors(400, 404, 409),
        },
      },
    },
    async (request) => {
      const { orderId } = request.params;
      await assertOwnOrder(db, orderId, request.principal);
      const { extensionId, seconds, reason } = request.body;
      const deps = { db, temporal, taskQueue: config.temporal.taskQueue, caps: config.holdExtension };
      const outcome = await extendHold(deps, { orderId, extensionId, seconds, reason, source: ExtensionSource.API });
      if (outcome.status === 'REFUSED') throw new DomainError(outcome.code, outcome.message, { extensionId });
      request.log.info({ orderId, extensionId, expiresAt: outcome.expiresAt }, 'hold extended');
      return outcome;
    },
  );
};

export default orders;
