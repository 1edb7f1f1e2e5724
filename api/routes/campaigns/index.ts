/** Flash sales: the shopper's order endpoint. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DomainError, httpStatusOf } from '../../../domain/errors';
import { AmountCents, errors, Id, OrderLineSchema } from '../../schemas';
import { Scope } from '../../../domain/api-keys';
import { refusalMessage, rejection } from '../../rejection';
import { gateRebuilder, placeFlashOrder } from '../../../use-cases/place-flash-order';

const campaigns: FastifyPluginAsyncTypebox = async (app) => {
  const { db, redis, gate, config, metrics } = app.deps;
  const flash = {
    db,
    redis,
    gate,
    holds: app.holds,
    limits: app.flashLimits,
    dbPathDeadlineMs: config.campaigns.dbPathDeadlineMs,
    onGateMiss: gateRebuilder(db, gate, (msg, err) => app.log.warn({ err }, msg)),
  };

  app.post(
    '/campaigns/:campaignId/orders',
    {
      config: { access: Scope.ORDERS },
      schema: {
        summary: 'Order in a flash sale or pre-sale: admitted by the gate, held by the order saga',
        description:
          'SOLD_OUT, LIMIT_REACHED, NOT_STARTED and ENDED are answered by the Redis gate alone (by PostgreSQL while the gate cannot answer). Idempotent by orderId: the same id with another body is 409 ORDER_CONFLICT.',
        tags: ['campaigns'],
        params: Type.Object({ campaignId: Id }),
        body: Type.Object(
          {
            orderId: Id,
            userId: Id,
            quantity: Type.Integer({ minimum: 1, maximum: 1000 }),
            amountCents: Type.Optional(AmountCents),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            orderId: Type.String(),
            status: Type.Literal('RESERVED'),
            reservationId: Type.String(),
            lines: Type.Array(OrderLineSchema),
            expiresAt: Type.String({ description: 'pay before this, or the hold is released' }),
            expectedShipDate: Type.Optional(
              Type.String({ description: 'pre-orders: when the goods are expected to ship' }),
            ),
          }),
          ...errors(400, 404, 409, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const order = { campaignId: request.params.campaignId, ...request.body };
      // The order limits are spent by the gate's admission step, once it admits the order (see placeFlashOrder).
      const result = await placeFlashOrder(flash, order, app.orderBuckets(request), request.principal?.keyId).catch(
        (err) => {
          metrics.orders.inc({ outcome: err instanceof DomainError ? `flash_${err.code}` : 'flash_error' });
          throw err;
        },
      );
      if (result.via === 'gate-refusal') {
        // The hot path of a sold-out sale: answered straight from the gate's verdict.
        metrics.orders.inc({ outcome: `flash_${result.refusal}_via_gate` });
        return reply
          .code(httpStatusOf[result.refusal] as 409)
          .send({ code: result.refusal, message: refusalMessage[result.refusal] });
      }
      const { outcome } = result;
      metrics.orders.inc({
        outcome: `flash_${outcome.status === 'reserved' ? 'reserved' : outcome.reason}_via_${result.via}`,
      });
      if (outcome.status !== 'reserved') throw rejection(outcome);
      const { reservationId, lines, expiresAt, expectedShipDate } = outcome;
      return reply.code(201).send({
        orderId: order.orderId,
        status: 'RESERVED' as const,
        reservationId,
        lines: [...lines],
        expiresAt,
        expectedShipDate,
      });
    },
  );
};

export default campaigns;
