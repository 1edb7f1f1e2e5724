/** The console's pages (GET): each read through data/ or a use case, as its JSON endpoint reads it. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleConfig } from '../../../config';
import { AlertKind, ALERTS_KEY, ALERTS_LIST, listAlerts } from '../../../data/alerts/stock-alerts';
import { recentChecks } from '../../../data/cache/checker';
import { HOLDS_KEY, HOLDS_LIST, listHolds } from '../../../data/orders/lists';
import { listPayments, PAYMENTS_KEY, PAYMENTS_LIST } from '../../../data/payments/payment-list';
import { listProducts, PRODUCTS_KEY, PRODUCTS_LIST } from '../../../data/stock/catalog-lists';
import { readInventory } from '../../../data/stock/inventory-view';
import { MOVEMENTS_KEY, MOVEMENTS_LIST } from '../../../data/stock/movements';
import { latestReconciliation } from '../../../data/stock/reconcile';
import { listSubscriptions } from '../../../data/events/subscriptions';
import { DomainError, ErrorCode } from '../../../domain/errors';
import { readHistory } from '../../../use-cases/history';
import { orderWorkflowId } from '../../../workflows/ids';
import { Id, pageOf } from '../../schemas';
import type { Html } from './html';
import { readOverview, readSales } from './reads';
import { allowed, Need, requireSession } from './session';
import { holdsBody, HoldFilter, SOON_MINUTES } from './views/holds';
import { nextPage, page, type PageContext } from './views/layout';
import { alertsBody, paymentsBody, PAYMENT_VIEWS } from './views/money';
import { historyBody, reconciliationBody } from './views/ledger';
import { overviewPanel } from './views/overview';
import { salesPanel } from './views/sales';
import { skuBody, stockBody, type SkuStock } from './views/stock';

/** Results an action redirects back with (?done=…): fixed sentences, the ids escaped. */
const DONE: Record<string, (q: Record<string, string | undefined>) => string> = {
  extended: (q) => `Hold ${q.order ?? ''} extended: its new expiry is below.`,
  released: (q) => `Release of ${q.order ?? ''} sent to its saga: the hold is given back within seconds.`,
  settled: (q) => `Payment ${q.payment ?? ''} of ${q.order ?? ''} driven: ${q.result ?? ''}.`,
  reconciled: (q) => `Reconciliation run ${q.run ?? ''} recorded.`,
};

const Cursor = Type.Optional(Type.String({ maxLength: 1000 }));
const Text = (max = 128) => Type.Optional(Type.String({ maxLength: max }));
const Notice = { done: Text(32), order: Text(), payment: Text(), result: Text(64), run: Text(32) };
const ROWS = 50;

const consolePages: FastifyPluginAsyncTypebox<{ settings: ConsoleConfig }> = async (app, { settings }) => {
  const { db, config } = app.deps;
  const read = requireSession(app, Need.READ);
  const refresh = settings.refreshSeconds;

  function context(request: FastifyRequest, reply: FastifyReply): PageContext {
    const q = request.query as Record<string, string | undefined>;
    const done = q.done ? DONE[q.done] : undefined;
    return { principal: request.principal!, csrf: reply.generateCsrf(), notice: done && { ok: true, text: done(q) } };
  }
  const send = (reply: FastifyReply, body: Html) => reply.type('text/html; charset=utf-8').send(String(body));
  const show = (request: FastifyRequest, reply: FastifyReply, title: string, path: string, body: Html) =>
    send(reply, page(title, path, context(request, reply), body));
  const canAct = (request: FastifyRequest) => allowed(request.principal!, Need.ACT);
  const route = { config: { access: 'console' as const }, preHandler: read };

  app.get('/console', { ...route, schema: { querystring: Type.Object(Notice) } }, async (request, reply) =>
    show(request, reply, 'Overview', '/console', overviewPanel(await readOverview(app.deps), refresh)),
  );
  app.get('/console/overview/panel', route, async (_request, reply) =>
    send(reply, overviewPanel(await readOverview(app.deps), refresh)),
  );

  app.get(
    '/console/holds',
    {
      ...route,
      schema: {
        querystring: Type.Object({
          sku: Type.Optional(Type.Union([Id, Type.Literal('')])),
          filter: Type.Optional(Type.Union(Object.values(HoldFilter).map((f) => Type.Literal(f)))),
          cursor: Cursor,
          ...Notice,
        }),
      },
    },
    async (request, reply) => {
      const { sku, filter = HoldFilter.ALL, cursor } = request.query;
      const { after } = pageOf(HOLDS_LIST, HOLDS_KEY, { cursor });
      const pastExpiry = filter === HoldFilter.PAST ? true : filter === HoldFilter.SOON ? false : undefined;
      let holds = await listHolds(db, { sku: sku || undefined, pastExpiry }, ROWS, after);
      if (filter === HoldFilter.SOON) {
        // Soonest first: the page's rows within the window are every hold expiring soon on it.
        const horizon = Date.now() + SOON_MINUTES * 60_000;
        const data = holds.data.filter((h) => Date.parse(h.expiresAt) <= horizon);
        holds = {
          data,
          hasMore: holds.hasMore && data.length === holds.data.length,
          nextCursor: data.length === holds.data.length ? holds.nextCursor : null,
        };
      }
      const sagaUrl = (orderId: string) =>
        `${settings.temporalUiUrl}/namespaces/${encodeURIComponent(config.temporal.namespace)}/workflows/${encodeURIComponent(orderWorkflowId(orderId))}`;
      const csrf = reply.generateCsrf();
      const body = holdsBody(
        holds,
        { sku: sku || undefined, filter },
        {
          csrf,
          canAct: canAct(request),
          sagaUrl,
          maxExtensionSeconds: config.holdExtension.maxSeconds,
        },
      );
      return show(request, reply, 'Holds', '/console/holds', body);
    },
  );

  app.get(
    '/console/stock',
    {
      ...route,
      schema: { querystring: Type.Object({ sku: Type.Optional(Type.Union([Id, Type.Literal('')])), cursor: Cursor }) },
    },
    async (request, reply) => {
      const { sku, cursor } = request.query;
      let skus: SkuStock[];
      let more = null as string | null;
      if (sku) {
        const one = await readInventory(db, sku);
        skus = one ? [one] : [];
      } else {
        const { after } = pageOf(PRODUCTS_LIST, PRODUCTS_KEY, { cursor });
        const products = await listProducts(db, 20, after);
        skus = (await Promise.all(products.data.map((p) => readInventory(db, p.sku)))).filter((s) => s !== undefined);
        more = products.nextCursor;
      }
      return show(
        request,
        reply,
        'Stock',
        '/console/stock',
        stockBody(skus, sku || undefined, nextPage('/console/stock', {}, more)),
      );
    },
  );

  app.get('/console/stock/:sku', { ...route, schema: { params: Type.Object({ sku: Id }) } }, async (request, reply) => {
    const stock = await readInventory(db, request.params.sku);
    if (!stock) throw new DomainError(ErrorCode.SKU_NOT_FOUND, `no product ${request.params.sku}`);
    return show(request, reply, `Stock of ${stock.sku}`, '/console/stock', skuBody(stock));
  });

  app.get('/console/sales', route, async (request, reply) =>
    show(request, reply, 'Sales', '/console/sales', salesPanel(await readSales(app.deps), refresh)),
  );
  app.get('/console/sales/panel', route, async (_request, reply) =>
    send(reply, salesPanel(await readSales(app.deps), refresh)),
  );

  app.get(
    '/console/payments',
    {
      ...route,
      schema: {
        querystring: Type.Object({
          state: Type.Optional(Type.Union(PAYMENT_VIEWS.map((s) => Type.Literal(s)))),
          cursor: Cursor,
          ...Notice,
        }),
      },
    },
    async (request, reply) => {
      const { state = 'PENDING', cursor } = request.query;
      const { after } = pageOf(PAYMENTS_LIST, PAYMENTS_KEY, { cursor });
      const payments = await listPayments(db, { state }, ROWS, after);
      const body = paymentsBody(payments, state, reply.generateCsrf(), canAct(request));
      return show(request, reply, 'Payments', '/console/payments', body);
    },
  );

  app.get(
    '/console/alerts',
    {
      ...route,
      schema: {
        querystring: Type.Object({
          kind: Type.Optional(Type.Union([...Object.values(AlertKind).map((k) => Type.Literal(k)), Type.Literal('')])),
          cursor: Cursor,
        }),
      },
    },
    async (request, reply) => {
      const kind = request.query.kind || undefined;
      const { after } = pageOf(ALERTS_LIST, ALERTS_KEY, { cursor: request.query.cursor });
      const alerts = await listAlerts(db, { kind, limit: ROWS }, after);
      return show(request, reply, 'Alerts', '/console/alerts', alertsBody(alerts, kind, Object.values(AlertKind)));
    },
  );

  app.get(
    '/console/history',
    {
      ...route,
      schema: {
        querystring: Type.Object({
          sku: Text(64),
          warehouse: Text(64),
          order: Text(200),
          actor: Text(100),
          cursor: Cursor,
        }),
      },
    },
    async (request, reply) => {
      const { cursor, ...raw } = request.query;
      const q = Object.fromEntries(Object.entries(raw).filter(([, v]) => v)) as Record<string, string>;
      const { after } = pageOf(MOVEMENTS_LIST, MOVEMENTS_KEY, { cursor });
      const filter = { sku: q.sku, warehouseCode: q.warehouse, reference: q.order, actor: q.actor };
      const rows = await readHistory(db, filter, ROWS, after);
      return show(request, reply, 'History', '/console/history', historyBody(rows, q));
    },
  );

  app.get(
    '/console/reconciliation',
    { ...route, schema: { querystring: Type.Object(Notice) } },
    async (request, reply) => {
      const [report, checks, overview, subscriptions] = await Promise.all([
        latestReconciliation(db),
        recentChecks(db, 1),
        readOverview(app.deps),
        listSubscriptions(db),
      ]);
      const csrf = reply.generateCsrf();
      const body = reconciliationBody(report, checks[0], overview.backlogs, subscriptions, csrf, canAct(request));
      return show(request, reply, 'Reconciliation', '/console/reconciliation', body);
    },
  );
};

export default consolePages;
