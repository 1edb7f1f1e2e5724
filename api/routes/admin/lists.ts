/**
 * Reading what exists and what happened (scope admin): the stock history, the live holds,
 * payments, transfers, and the catalogue (products, warehouses, levels). Every list pages the
 * same way: `limit`, `cursor` → `{ data, hasMore, nextCursor }` (domain/cursor.ts).
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Scope } from '../../../domain/api-keys';
import { readHistory } from '../../../use-cases/history';
import { MOVEMENTS_KEY, MOVEMENTS_LIST } from '../../../data/stock/movements';
import { HOLDS_KEY, HOLDS_LIST, listHolds } from '../../../data/orders/lists';
import { listPayments, PAYMENTS_KEY, PAYMENTS_LIST } from '../../../data/payments/payment-list';
import { PaymentState } from '../../../domain/payments';
import { TransferStatus } from '../../../domain/transfers';
import { listTransfers, TRANSFERS_KEY, TRANSFERS_LIST } from '../../../data/transfers/transfer-list';
import {
  LEVELS_KEY,
  LEVELS_LIST,
  listLevels,
  listProducts,
  listWarehouses,
  PRODUCTS_KEY,
  PRODUCTS_LIST,
  WAREHOUSES_KEY,
  WAREHOUSES_LIST,
} from '../../../data/stock/catalog-lists';
import { errors, Id, Instant, PageOf, pageOf, PageQuery, Text } from '../../schemas';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);
const Line = Type.Object({ sku: Type.String(), warehouseCode: Type.String(), quantity: Type.Integer() });
const Units = Type.Object({
  onHand: Type.Integer(),
  reserved: Type.Integer(),
  incoming: Type.Integer(),
  damaged: Type.Integer(),
  qualityControl: Type.Integer(),
});
const UnitsAfter = Type.Object({
  onHand: Nullable(Type.Integer()),
  reserved: Nullable(Type.Integer()),
  incoming: Nullable(Type.Integer()),
});

const Movement = Type.Object({
  id: Type.String(),
  txId: Nullable(Type.String({ description: 'the transaction that wrote it: the rows of one change share it' })),
  at: Type.String({ format: 'date-time' }),
  sku: Type.String(),
  warehouseCode: Type.String(),
  lotCode: Nullable(Type.String()),
  kind: Type.String({
    description:
      'what happened: RESERVE, RELEASE, CONFIRM, RECEIVE, ADJUST, WRITE_OFF, TRANSFER_SHIP, CAMPAIGN_SET_ASIDE…',
  }),
  reason: Nullable(
    Type.String({ description: "why: the reason given (a receipt's reason, an adjustment's code, EXPIRED)" }),
  ),
  reference: Type.String({ description: 'the business serial: an order id, a transfer id, an idempotency key' }),
  actor: Nullable(
    Type.String({
      description:
        'who: a key id, bootstrap (ADMIN_TOKEN), or system:<writer> (system:sweeper, system:order-saga, system:expiry…)',
    }),
  ),
  actorName: Nullable(Type.String({ description: "the key's name; for system writers, the actor again" })),
  change: Units,
  after: UnitsAfter,
});

const Hold = Type.Object({
  orderId: Type.String(),
  userId: Type.String(),
  campaignId: Nullable(Type.String()),
  heldSince: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  pastExpiry: Type.Boolean({
    description: 'its expiry passed and it is still held: the saga or the sweeper releases it',
  }),
  lines: Type.Array(Line),
});

const Payment = Type.Object({
  orderId: Type.String(),
  paymentId: Type.String(),
  amountCents: Type.Integer(),
  state: Type.String(),
  reason: Nullable(Type.String()),
  receivedAt: Type.String({ format: 'date-time' }),
  settledAt: Nullable(Type.String({ format: 'date-time' })),
});

const Transfer = Type.Object({
  transferId: Type.String(),
  sku: Type.String(),
  fromWarehouse: Type.String(),
  toWarehouse: Type.String(),
  quantity: Type.Integer(),
  status: Type.String(),
  receivedQuantity: Nullable(Type.Integer()),
  shortfallReason: Nullable(Type.String()),
  deadlineAt: Nullable(Type.String({ format: 'date-time' })),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const Product = Type.Object({
  sku: Type.String(),
  name: Type.String(),
  lotTracked: Type.Boolean(),
  alertDaysBeforeExpiry: Nullable(Type.Integer()),
  removalDaysBeforeExpiry: Nullable(Type.Integer()),
  createdAt: Type.String({ format: 'date-time' }),
});

const Warehouse = Type.Object({
  code: Type.String(),
  name: Type.String(),
  region: Type.String(),
  priority: Type.Integer(),
  latitude: Nullable(Type.Number()),
  longitude: Nullable(Type.Number()),
  createdAt: Type.String({ format: 'date-time' }),
});

const Level = Type.Object({
  sku: Type.String(),
  warehouseCode: Type.String(),
  onHand: Type.Integer(),
  reserved: Type.Integer(),
  safetyStock: Type.Integer(),
  incoming: Type.Integer(),
  damaged: Type.Integer({ description: 'on hand, set aside as damaged: not sellable' }),
  qualityControl: Type.Integer({ description: 'on hand, held for quality control: not sellable' }),
  available: Type.Integer({ description: 'what may still be promised' }),
  version: Type.String(),
  updatedAt: Type.String({ format: 'date-time' }),
});

const Word = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' });
const literals = (values: readonly string[]) => Type.Union(values.map((v) => Type.Literal(v)));
const query = <P extends Parameters<typeof Type.Object>[0]>(props: P) =>
  Type.Object({ ...props, ...PageQuery }, { additionalProperties: false });
const list = { config: { access: Scope.ADMIN } } as const;

const adminLists: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.deps;

  app.get(
    '/admin/movements',
    {
      ...list,
      schema: {
        summary: 'The stock history: who moved which units, when, why, and the level after (newest first)',
        tags: ['admin'],
        querystring: query({
          sku: Type.Optional(Id),
          warehouse: Type.Optional(Id),
          lot: Type.Optional(Id),
          kind: Type.Optional(Word),
          reason: Type.Optional(Text({ maxLength: 200 })),
          order: Type.Optional(
            Type.String({
              minLength: 1,
              maxLength: 200,
              description: 'the reference: an order id, transfer id, idempotency key',
            }),
          ),
          actor: Type.Optional(
            Type.String({ minLength: 1, maxLength: 100, description: 'a key id, bootstrap, or system:<writer>' }),
          ),
          from: Type.Optional(Instant),
          to: Type.Optional(Instant),
        }),
        response: { 200: PageOf(Movement, 'a page of the ledger'), ...errors(400) },
      },
    },
    async (request) => {
      const { sku, warehouse, lot, kind, reason, order, actor, from, to } = request.query;
      const { limit, after } = pageOf(MOVEMENTS_LIST, MOVEMENTS_KEY, request.query);
      const filter = {
        sku,
        warehouseCode: warehouse,
        lotCode: lot,
        kind,
        reason,
        reference: order,
        actor,
        from: date(from),
        to: date(to),
      };
      return readHistory(db, filter, limit, after);
    },
  );

  app.get(
    '/admin/holds',
    {
      ...list,
      schema: {
        summary: 'Who holds this stock: the live holds, soonest to expire first',
        tags: ['admin'],
        querystring: query({
          sku: Type.Optional(Id),
          warehouse: Type.Optional(Id),
          user: Type.Optional(Text({ maxLength: 128 })),
          pastExpiry: Type.Optional(
            Type.Boolean({ description: 'true: only holds past their expiry; false: only those not yet' }),
          ),
        }),
        response: { 200: PageOf(Hold, 'a page of holds'), ...errors(400) },
      },
    },
    async (request) => {
      const { sku, warehouse, user, pastExpiry } = request.query;
      const { limit, after } = pageOf(HOLDS_LIST, HOLDS_KEY, request.query);
      return listHolds(db, { sku, warehouseCode: warehouse, userId: user, pastExpiry }, limit, after);
    },
  );

  app.get(
    '/admin/payments',
    {
      ...list,
      schema: {
        summary: 'Payments as received, newest first',
        tags: ['admin'],
        querystring: query({ state: Type.Optional(literals(Object.values(PaymentState))), order: Type.Optional(Id) }),
        response: { 200: PageOf(Payment, 'a page of payments'), ...errors(400) },
      },
    },
    async (request) => {
      const { limit, after } = pageOf(PAYMENTS_LIST, PAYMENTS_KEY, request.query);
      return listPayments(db, { state: request.query.state, orderId: request.query.order }, limit, after);
    },
  );

  app.get(
    '/admin/transfers',
    {
      ...list,
      schema: {
        summary: 'Transfers between warehouses, newest first',
        tags: ['admin', 'transfers'],
        querystring: query({ stage: Type.Optional(literals(Object.values(TransferStatus))), sku: Type.Optional(Id) }),
        response: { 200: PageOf(Transfer, 'a page of transfers'), ...errors(400) },
      },
    },
    async (request) => {
      const { limit, after } = pageOf(TRANSFERS_LIST, TRANSFERS_KEY, request.query);
      return listTransfers(db, { status: request.query.stage, sku: request.query.sku }, limit, after);
    },
  );

  app.get(
    '/admin/products',
    {
      ...list,
      schema: {
        summary: 'Products, by SKU',
        tags: ['admin'],
        querystring: query({}),
        response: { 200: PageOf(Product, 'a page of products'), ...errors(400) },
      },
    },
    async (request) => {
      const { limit, after } = pageOf(PRODUCTS_LIST, PRODUCTS_KEY, request.query);
      return listProducts(db, limit, after);
    },
  );

  app.get(
    '/admin/warehouses',
    {
      ...list,
      schema: {
        summary: 'Warehouses, by code',
        tags: ['admin'],
        querystring: query({ region: Type.Optional(Text({ maxLength: 64 })) }),
        response: { 200: PageOf(Warehouse, 'a page of warehouses'), ...errors(400) },
      },
    },
    async (request) => {
      const { limit, after } = pageOf(WAREHOUSES_LIST, WAREHOUSES_KEY, request.query);
      return listWarehouses(db, { region: request.query.region }, limit, after);
    },
  );

  app.get(
    '/admin/levels',
    {
      ...list,
      schema: {
        summary: 'Stock levels (SKU × warehouse), by SKU then warehouse',
        tags: ['admin'],
        querystring: query({ sku: Type.Optional(Id), warehouse: Type.Optional(Id) }),
        response: { 200: PageOf(Level, 'a page of levels'), ...errors(400) },
      },
    },
    async (request) => {
      const { limit, after } = pageOf(LEVELS_LIST, LEVELS_KEY, request.query);
      return listLevels(db, { sku: request.query.sku, warehouseCode: request.query.warehouse }, limit, after);
    },
  );
};

const date = (iso?: string) => (iso === undefined ? undefined : new Date(iso));

export default adminLists;
