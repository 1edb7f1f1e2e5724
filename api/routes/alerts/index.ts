/**
 * GET /alerts — stock alerts (near expiry, expired, overdue transfers, sagas past expiry), newest
 * first, paged like every list (`data`, `hasMore`, `nextCursor`). `alerts` repeats `data` for
 * the clients written before the lists had cursors.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { AlertKind, ALERTS_KEY, ALERTS_LIST, listAlerts } from '../../../data/alerts/stock-alerts';
import { errors, Id, PageOf, pageOf, PageQuery } from '../../schemas';
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
  deliveredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
    description: 'pushed to ALERT_WEBHOOK_URL at',
  }),
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
            ...PageQuery,
            limit: Type.Optional(
              Type.Integer({ minimum: 1, maximum: 500, default: 100, description: 'rows per page (default 100)' }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Composite([
            PageOf(Alert, 'a page of alerts'),
            Type.Object({ alerts: Type.Array(Alert, { description: 'the same rows as data (deprecated)' }) }),
          ]),
          ...errors(400),
        },
      },
    },
    async (request) => {
      const { kind, sku } = request.query;
      const { after } = pageOf(ALERTS_LIST, ALERTS_KEY, request.query);
      const page = await listAlerts(db, { kind, sku, limit: request.query.limit ?? 100 }, after);
      return { ...page, alerts: page.data };
    },
  );
};

export default alerts;
