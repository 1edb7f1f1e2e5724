/**
 * Webhook subscriptions (issue 18 item 3; scope `events` or `admin`): create (the signing
 * secret is shown once), list, read, change, delete, rotate the secret (the old one keeps
 * signing for an overlap), list deliveries that failed (DEAD ones above all), retry one now,
 * replay from a position. The worker's dispatcher does the sending (use-cases/webhook-dispatcher.ts);
 * docs/events.md "Webhooks" is the receiver's guide.
 */
import { randomBytes } from 'node:crypto';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import {
  createSubscription,
  deleteSubscription,
  getSubscription,
  listDeliveries,
  listSubscriptions,
  replayAfter,
  rotateSecret,
  subscriptionForSending,
  updateSubscription,
  type DeliveryRecord,
} from '../../../data/events';
import { Scope } from '../../../domain/api-keys';
import { DomainError, ErrorCode } from '../../../domain/errors';
import { TYPE_FILTER_PATTERN } from '../../../domain/event-subscriptions';
import { outboundRefusal } from '../../../platform/outbound-address';
import { newWebhookSecret } from '../../../platform/standard-webhooks';
import { metricsObserver, retryDelivery, webhookDeliveryDeps } from '../../../use-cases/event-webhooks';
import { errors, Id, Text } from '../../schemas';

const access = { access: [Scope.EVENTS, Scope.ADMIN] as const };
const SubscriptionId = Type.String({ pattern: '^sub_[0-9a-f]{16}$' });
const Position = Type.String({
  pattern: '^[0-9]{1,18}$',
  description: 'a feed position (an event’s sequence as a number)',
});
const Stamp = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);
const Filter = {
  types: Type.Optional(
    Type.Array(Type.String({ pattern: TYPE_FILTER_PATTERN }), {
      maxItems: 50,
      uniqueItems: true,
      description: 'event types, or a family such as stock.* (empty or absent: every type)',
    }),
  ),
  skus: Type.Optional(
    Type.Array(Id, {
      maxItems: 1000,
      uniqueItems: true,
      description: 'only events about these SKUs (order and payment events name none)',
    }),
  ),
  warehouses: Type.Optional(
    Type.Array(Id, { maxItems: 1000, uniqueItems: true, description: 'only events about these warehouses' }),
  ),
};
const Url = Type.String({
  minLength: 8,
  maxLength: 2000,
  pattern: '^https?://',
  description: 'where events are POSTed (http or https)',
});
const Subscription = Type.Object({
  id: Type.String(),
  url: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  types: Type.Array(Type.String()),
  skus: Type.Array(Type.String()),
  warehouses: Type.Array(Type.String()),
  status: Type.Union([Type.Literal('ACTIVE'), Type.Literal('DISABLED')]),
  disabledReason: Type.Union([
    Type.String({
      description: 'GONE (the receiver answered 410), FAILING (a delivery failed for its whole retry schedule), MANUAL',
    }),
    Type.Null(),
  ]),
  disabledAt: Stamp,
  cursor: Type.String({ description: 'the last position handled (delivered, filtered out, or DEAD)' }),
  previousSecretExpiresAt: Type.Union([
    Type.String({ format: 'date-time', description: 'the old secret signs too until then' }),
    Type.Null(),
  ]),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
const WithSecret = Type.Composite([
  Subscription,
  Type.Object({ secret: Type.String({ description: 'whsec_…: the signing secret, shown only this once' }) }),
]);
const Delivery = Type.Object({
  position: Type.String(),
  eventId: Type.String({ description: 'the webhook-id header and the CloudEvent id' }),
  status: Type.Union([Type.Literal('RETRYING'), Type.Literal('DEAD'), Type.Literal('DELIVERED')]),
  attempts: Type.Integer(),
  nextAttemptAt: Stamp,
  lastStatus: Type.Union([Type.Integer(), Type.Null()], {
    description: "the receiver's last HTTP status (null: no answer)",
  }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  firstFailedAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const deliveryView = (d: DeliveryRecord) => ({
  position: d.position.toString(),
  eventId: d.eventId,
  status: d.status,
  attempts: d.attempts,
  nextAttemptAt: d.nextAttemptAt?.toISOString() ?? null,
  lastStatus: d.lastStatus,
  lastError: d.lastError,
  firstFailedAt: d.firstFailedAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
});

const subscriptions: FastifyPluginAsyncTypebox = async (app) => {
  const { db, config, metrics } = app.deps;
  const policy = { refusePrivate: config.eventWebhooks.refusePrivate, allowedHosts: config.eventWebhooks.allowedHosts };
  const checkUrl = async (url: string) => {
    const refusal = await outboundRefusal(url, policy);
    if (refusal) throw new DomainError(ErrorCode.VALIDATION_FAILED, `url refused: ${refusal}`, { url });
  };
  const notFound = (id: string) => new DomainError(ErrorCode.NOT_FOUND, `no event subscription ${id}`);
  const Params = Type.Object({ id: SubscriptionId });

  app.post(
    '/admin/event-subscriptions',
    {
      config: access,
      schema: {
        summary:
          'Subscribe a URL to signed webhooks (Standard Webhooks); the answer carries the secret, shown only this once',
        description:
          'It hears every event positioned from now on that passes its filter, in position order. See docs/events.md "Webhooks".',
        tags: ['events'],
        body: Type.Object(
          { url: Url, description: Type.Optional(Text({ maxLength: 200 })), ...Filter },
          { additionalProperties: false },
        ),
        response: { 201: WithSecret, ...errors(400) },
      },
    },
    async (request, reply) => {
      const { url, description, types = [], skus = [], warehouses = [] } = request.body;
      await checkUrl(url);
      const secret = newWebhookSecret();
      const created = await createSubscription(db, {
        id: `sub_${randomBytes(8).toString('hex')}`,
        url,
        description,
        types,
        skus,
        warehouses,
        secret,
      });
      request.log.info({ subscriptionId: created.id, url, by: request.principal!.keyId }, 'event subscription created');
      return reply.code(201).send({ ...created, secret });
    },
  );

  app.get(
    '/admin/event-subscriptions',
    {
      config: access,
      schema: {
        summary: 'Every event subscription, oldest first (never the secrets)',
        tags: ['events'],
        response: { 200: Type.Object({ subscriptions: Type.Array(Subscription) }) },
      },
    },
    async () => ({ subscriptions: await listSubscriptions(db) }),
  );

  app.get(
    '/admin/event-subscriptions/:id',
    {
      config: access,
      schema: {
        summary: 'One event subscription (never its secret)',
        tags: ['events'],
        params: Params,
        response: { 200: Subscription, ...errors(400, 404) },
      },
    },
    async (request) => {
      const found = await getSubscription(db, request.params.id);
      if (!found) throw notFound(request.params.id);
      return found;
    },
  );

  app.patch(
    '/admin/event-subscriptions/:id',
    {
      config: access,
      schema: {
        summary:
          'Change a subscription: its URL, filter, description; enabled false disables it, true re-enables it (it goes on after its cursor)',
        tags: ['events'],
        params: Params,
        body: Type.Object(
          {
            url: Type.Optional(Url),
            description: Type.Optional(Type.Union([Text({ maxLength: 200 }), Type.Null()])),
            enabled: Type.Optional(Type.Boolean()),
            ...Filter,
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: Subscription, ...errors(400, 404) },
      },
    },
    async (request) => {
      if (request.body.url) await checkUrl(request.body.url);
      const updated = await updateSubscription(db, request.params.id, request.body);
      if (!updated) throw notFound(request.params.id);
      return updated;
    },
  );

  app.delete(
    '/admin/event-subscriptions/:id',
    {
      config: access,
      schema: {
        summary: 'Delete a subscription and its delivery records',
        tags: ['events'],
        params: Params,
        response: { 204: Type.Null(), ...errors(400, 404) },
      },
    },
    async (request, reply) => {
      if (!(await deleteSubscription(db, request.params.id))) throw notFound(request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/admin/event-subscriptions/:id/rotate',
    {
      config: access,
      schema: {
        summary:
          'Rotate the signing secret: the new one (shown only this once) signs from now on, the old one too until the overlap ends',
        description:
          'Each delivery carries one v1 signature per live secret; a receiver verifying with either accepts it. overlapSeconds 0 retires the old secret at once.',
        tags: ['events'],
        params: Params,
        body: Type.Optional(
          Type.Object(
            { overlapSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 7 * 86_400 })) },
            { additionalProperties: false },
          ),
        ),
        response: { 200: WithSecret, ...errors(400, 404) },
      },
    },
    async (request) => {
      const overlapSeconds = request.body?.overlapSeconds ?? config.eventWebhooks.secretOverlapSeconds;
      const secret = newWebhookSecret();
      const rotated = await rotateSecret(db, request.params.id, secret, new Date(Date.now() + overlapSeconds * 1000));
      if (!rotated) throw notFound(request.params.id);
      request.log.info(
        { subscriptionId: rotated.id, overlapSeconds, by: request.principal!.keyId },
        'event subscription secret rotated',
      );
      return { ...rotated, secret };
    },
  );

  app.get(
    '/admin/event-subscriptions/:id/deliveries',
    {
      config: access,
      schema: {
        summary:
          "A subscription's failed deliveries (DEAD: given up; RETRYING: waiting for its next attempt; DELIVERED: a retry succeeded), oldest first",
        tags: ['events'],
        params: Params,
        querystring: Type.Object(
          {
            status: Type.Optional(
              Type.Union([Type.Literal('DEAD'), Type.Literal('RETRYING'), Type.Literal('DELIVERED')]),
            ),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Object({ deliveries: Type.Array(Delivery) }), ...errors(400, 404) },
      },
    },
    async (request) => {
      if (!(await getSubscription(db, request.params.id))) throw notFound(request.params.id);
      const found = await listDeliveries(db, request.params.id, request.query.status, request.query.limit ?? 100);
      return { deliveries: found.map(deliveryView) };
    },
  );

  app.post(
    '/admin/event-subscriptions/:id/deliveries/:position/retry',
    {
      config: access,
      schema: {
        summary:
          'Send a failed delivery again now (signed anew); DELIVERED on a 2xx, else it stays as it was with the attempt counted',
        tags: ['events'],
        params: Type.Object({ id: SubscriptionId, position: Position }),
        response: { 200: Delivery, ...errors(400, 404) },
      },
    },
    async (request) => {
      const { id, position } = request.params;
      const sub = await subscriptionForSending(db, id);
      if (!sub) throw notFound(id);
      const retried = await retryDelivery(
        webhookDeliveryDeps(db, config, metricsObserver(metrics)),
        sub,
        BigInt(position),
      );
      if (!retried) throw new DomainError(ErrorCode.NOT_FOUND, `no failed delivery of position ${position} to ${id}`);
      return deliveryView(retried);
    },
  );

  app.post(
    '/admin/event-subscriptions/:id/replay',
    {
      config: access,
      schema: {
        summary:
          'Send again every event after a position (that passes the filter), in order: the cursor moves back there',
        tags: ['events'],
        params: Params,
        body: Type.Object({ after: Position }, { additionalProperties: false }),
        response: { 200: Subscription, ...errors(400, 404) },
      },
    },
    async (request) => {
      if (!(await getSubscription(db, request.params.id))) throw notFound(request.params.id);
      return (await replayAfter(db, request.params.id, BigInt(request.body.after)))!;
    },
  );
};

export default subscriptions;
