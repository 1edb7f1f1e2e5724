/**
 * GET /events — the pull feed (issue 18, item 4): CloudEvents in position order after a
 * cursor, for consumers that cannot take webhooks and for repairing a gap a consumer found
 * in a level's versions. The route runs one positioning pass before it reads, so the feed is
 * current even when no worker's relay has run yet (a pass is one short statement; passes take
 * turns on one advisory lock). docs/events.md is the consumer's guide.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { assignPositions, EVENT_TYPE_PATTERN, readFeed } from '../../../data/events';
import { DomainError, ErrorCode } from '../../../domain/errors';
import { Scope } from '../../../domain/api-keys';
import { errors, Id } from '../../schemas';

/** A position: what `nextCursor` hands out; PostgreSQL's bigint bounds it. */
const MAX_POSITION = 9_223_372_036_854_775_807n;

const CloudEventSchema = Type.Object(
  {
    specversion: Type.Literal('1.0'),
    id: Type.String({ description: 'stable across retries and channels: dedupe on it' }),
    source: Type.String(),
    type: Type.String({
      description:
        'stock.changed, stock.out_of_stock, stock.back_in_stock, campaign.changed, campaign.sold_out, order.*, payment.settled, alert.*',
    }),
    subject: Type.String({
      description: '<sku>@<warehouse> for stock events, the campaign id, the order id, the alert subject',
    }),
    time: Type.String({ format: 'date-time' }),
    sequence: Type.String({ description: 'the position, zero-padded to 20 digits' }),
    datacontenttype: Type.Literal('application/json'),
    data: Type.Record(Type.String(), Type.Unknown()),
  },
  { description: 'A CloudEvents 1.0 event, structured JSON (docs/events.md)' },
);

const events: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.deps;
  app.get(
    '/events',
    {
      config: { access: Scope.EVENTS },
      schema: {
        summary: 'The event feed: every committed change, in position order, each once',
        description:
          "Page with `cursor` = the previous page's `nextCursor` (absent: from the beginning). Positions are given after commit, so a page never misses an event that commits later. See docs/events.md.",
        tags: ['events'],
        querystring: Type.Object(
          {
            cursor: Type.Optional(
              Type.String({
                pattern: '^[0-9]{1,19}$',
                description: 'the last position you have (nextCursor of the previous page)',
              }),
            ),
            limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
            types: Type.Optional(
              Type.String({
                pattern: `^${EVENT_TYPE_PATTERN.slice(1, -1)}(,${EVENT_TYPE_PATTERN.slice(1, -1)})*$`,
                description: 'comma-separated event types, e.g. stock.out_of_stock,stock.back_in_stock',
              }),
            ),
            sku: Type.Optional(Id),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            data: Type.Array(CloudEventSchema),
            hasMore: Type.Boolean({ description: 'true: ask again at once with nextCursor' }),
            nextCursor: Type.String({ description: 'where the next page starts; keep it even when data is empty' }),
          }),
          ...errors(400),
        },
      },
    },
    async (request) => {
      const { cursor, limit, types, sku } = request.query;
      const after = BigInt(cursor ?? '0');
      if (after > MAX_POSITION)
        throw new DomainError(ErrorCode.VALIDATION_FAILED, 'cursor is beyond any position', { cursor });
      await assignPositions(db);
      return readFeed(db, { after, limit: limit ?? 100, types: types?.split(','), sku });
    },
  );
};

export default events;
