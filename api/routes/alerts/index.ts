/** GET /alerts — stock alerts (near expiry, expired, overdue transfers, sagas past expiry), newest first. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AlertKind, listAlerts } from '../../../data/alerts/stock-alerts';
import { errors, Id } from '../../schemas';
import { Scope } from '../../../domain/api-keys';

const Alert = Type.Object({
  id: Type.String(),
  kind: Type.String({
    description:
      'NEAR_EXPIRY, EXPIRED, TRANSFER_OVERDUE, SAGA_PAST_EXPIRY, PAYMENT_UNSETTLED, RELEASE_FAILED, PAYMENT_UNKNOWN_ORDER, SAGA_PAYMENT_MISMATCH, WEBHOOK_DISABLED',
  }),
  sku: Type.String(),
  warehouseCode: Type.String(),
  lotCode: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  createdAt: Type.String({ format: 'date-time' }),
  deliveredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'pushed to ALERT_WEBHOOK_URL at' }),
});

const alerts: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.deps;
  app.get(
    '/alerts',
    {
      config: { access: Scope.INVENTORY_READ },
      schema: {
        summary: 'Stock alerts, newest first; each is raised once per lot (or transfer) and kind',
        tags: ['alerts'],
        querystring: Type.Object(
          {
            kind: Type.Optional(Type.Union(Object.values(AlertKind).map((k) => Type.Literal(k)))),
            sku: Type.Optional(Id),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ alerts: Type.Array(Alert) }), ...errors(400) },
      },
    },
    async (request) => {
      const { kind, sku, limit } = request.query;
      return { alerts: await listAlerts(db, { kind, sku, limit: limit ?? 100 }) };
    },
  );
};

export default alerts;
