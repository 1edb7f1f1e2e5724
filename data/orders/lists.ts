/**
 * Orders and holds as lists (GET /orders, GET /admin/holds), one keyset page at a time
 * (domain/cursor.ts): orders newest first (created_at, id), holds soonest to expire first
 * (expires_at, id). Each row carries its lines.
 */
import { Prisma } from '../../generated/prisma/client';
import { toPage, type KeyPart, type KeyValue, type Page } from '../../domain/cursor';
import type { Db } from '../db';
import { mariadbOf } from '../mariadb/db';
import { countHoldsOnMariadb, listHoldsOnMariadb, listOrdersOnMariadb } from '../mariadb/lists';

export const ORDERS_LIST = 'orders';
export const ORDERS_KEY: readonly KeyPart[] = ['instant', 'text'];
export const HOLDS_LIST = 'holds';
export const HOLDS_KEY: readonly KeyPart[] = ['instant', 'text'];

export interface OrderFilter {
  readonly status?: string;
  readonly userId?: string;
  readonly sku?: string;
  readonly campaignId?: string;
  readonly from?: Date;
  readonly to?: Date;
  /** Only orders this key placed (a caller without scope admin sees its own orders only). */
  readonly placedBy?: string;
}

export interface HoldFilter {
  readonly sku?: string;
  readonly warehouseCode?: string;
  readonly userId?: string;
  /** true: only holds past their expiry (the sweeper's work); false: only those not yet. */
  readonly pastExpiry?: boolean;
}

export interface OrderLineView {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly quantity: number;
}

export interface OrderListRow {
  readonly orderId: string;
  readonly userId: string;
  readonly status: string;
  readonly campaignId: string | null;
  readonly amountCents: number | null;
  readonly paymentId: string | null;
  readonly releaseReason: string | null;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly lines: OrderLineView[];
}

export interface HoldRow {
  readonly orderId: string;
  readonly userId: string;
  readonly campaignId: string | null;
  readonly heldSince: string;
  readonly expiresAt: string;
  readonly pastExpiry: boolean;
  readonly lines: OrderLineView[];
}

/** A decoded cursor (instant, id) as MariaDB's keyset takes it. */
const keyOf = (after?: KeyValue[]): [Date, string] | undefined =>
  after ? [new Date(after[0]!), String(after[1]!)] : undefined;

interface Stored {
  order_id: string;
  id: string;
  user_id: string;
  status: string;
  campaign_id: string | null;
  amount_cents: number | null;
  payment_id: string | null;
  release_reason: string | null;
  created_at: Date;
  expires_at: Date;
  past_expiry: boolean;
  lines: OrderLineView[] | null;
}

const and = (conditions: Prisma.Sql[]) =>
  conditions.length === 0 ? Prisma.sql`TRUE` : Prisma.join(conditions, ' AND ');

function select(conditions: Prisma.Sql[], order: Prisma.Sql, limit: number) {
  return Prisma.sql`
    SELECT r.id, r.order_id, r.user_id, r.status, r.campaign_id, r.amount_cents, r.payment_id, r.release_reason, r.created_at, r.expires_at,
           r.expires_at < now() AS past_expiry,
           (SELECT json_agg(json_build_object('sku', l.sku, 'warehouseCode', l.warehouse_code, 'quantity', l.quantity) ORDER BY l.sku, l.warehouse_code)
              FROM reservation_lines l WHERE l.reservation_id = r.id) AS lines
      FROM reservations r
     WHERE ${and(conditions)}
     ORDER BY ${order}
     LIMIT ${limit + 1}`;
}

const hasLine = (sku?: string, warehouseCode?: string) =>
  Prisma.sql`EXISTS (SELECT 1 FROM reservation_lines l WHERE l.reservation_id = r.id
                       AND (${sku ?? null}::text IS NULL OR l.sku = ${sku ?? null}) AND (${warehouseCode ?? null}::text IS NULL OR l.warehouse_code = ${warehouseCode ?? null}))`;

/** One page of orders, newest first, after the order `after` names (a decoded cursor). */
export async function listOrders(
  db: Db,
  f: OrderFilter,
  limit: number,
  after?: KeyValue[],
): Promise<Page<OrderListRow>> {
  const maria = mariadbOf(db);
  const rows: Stored[] = maria
    ? await listOrdersOnMariadb(maria, f, limit, keyOf(after))
    : await db.$queryRaw<Stored[]>(orderQuery(f, limit, after));
  return toPage(
    ORDERS_LIST,
    rows,
    limit,
    (r) => [r.created_at.toISOString(), r.id],
    (r) => ({
      orderId: r.order_id,
      userId: r.user_id,
      status: r.status,
      campaignId: r.campaign_id,
      amountCents: r.amount_cents,
      paymentId: r.payment_id,
      releaseReason: r.release_reason,
      createdAt: r.created_at.toISOString(),
      expiresAt: r.expires_at.toISOString(),
      lines: r.lines ?? [],
    }),
  );
}

function orderQuery(f: OrderFilter, limit: number, after?: KeyValue[]): Prisma.Sql {
  const c: Prisma.Sql[] = [];
  if (f.status) c.push(Prisma.sql`r.status = ${f.status}`);
  if (f.userId) c.push(Prisma.sql`r.user_id = ${f.userId}`);
  if (f.campaignId) c.push(Prisma.sql`r.campaign_id = ${f.campaignId}`);
  if (f.sku) c.push(hasLine(f.sku));
  if (f.from) c.push(Prisma.sql`r.created_at >= ${f.from}`);
  if (f.to) c.push(Prisma.sql`r.created_at < ${f.to}`);
  if (f.placedBy) {
    // The key that placed it: its saga's input (the outbox row committed with the hold), or
    // the hold's ledger row (data/orders/order-view.ts orderPlacedBy reads the same two).
    c.push(Prisma.sql`(EXISTS (SELECT 1 FROM saga_starts s WHERE s.order_id = r.order_id AND s.input->>'placedBy' = ${f.placedBy})
                       OR EXISTS (SELECT 1 FROM stock_movements m WHERE m.reference = r.order_id AND m.reason = 'RESERVE' AND m.actor = ${f.placedBy}))`);
  }
  if (after) c.push(Prisma.sql`(r.created_at, r.id) < (${new Date(after[0]!)}::timestamptz, ${after[1]!})`);
  return select(c, Prisma.sql`r.created_at DESC, r.id DESC`, limit);
}

/** One page of live holds ("who holds this stock"), soonest to expire first. */
export async function listHolds(db: Db, f: HoldFilter, limit: number, after?: KeyValue[]): Promise<Page<HoldRow>> {
  const maria = mariadbOf(db);
  const rows: Stored[] = maria
    ? await listHoldsOnMariadb(maria, f, limit, keyOf(after))
    : await db.$queryRaw<Stored[]>(holdQuery(f, limit, after));
  return toPage(
    HOLDS_LIST,
    rows,
    limit,
    (r) => [r.expires_at.toISOString(), r.id],
    (r) => ({
      orderId: r.order_id,
      userId: r.user_id,
      campaignId: r.campaign_id,
      heldSince: r.created_at.toISOString(),
      expiresAt: r.expires_at.toISOString(),
      pastExpiry: r.past_expiry,
      lines: r.lines ?? [],
    }),
  );
}

function holdQuery(f: HoldFilter, limit: number, after?: KeyValue[]): Prisma.Sql {
  const c: Prisma.Sql[] = [Prisma.sql`r.status = 'RESERVED'`];
  if (f.sku || f.warehouseCode) c.push(hasLine(f.sku, f.warehouseCode));
  if (f.userId) c.push(Prisma.sql`r.user_id = ${f.userId}`);
  if (f.pastExpiry === true) c.push(Prisma.sql`r.expires_at < now()`);
  if (f.pastExpiry === false) c.push(Prisma.sql`r.expires_at >= now()`);
  if (after) c.push(Prisma.sql`(r.expires_at, r.id) > (${new Date(after[0]!)}::timestamptz, ${after[1]!})`);
  return select(c, Prisma.sql`r.expires_at, r.id`, limit);
}

/** How many holds are live, and how many of them are past their expiry (the holds list's two filters, counted). */
export async function countHolds(db: Db): Promise<{ live: number; pastExpiry: number }> {
  const maria = mariadbOf(db);
  if (maria) return countHoldsOnMariadb(maria);
  const [row] = await db.$queryRaw<{ live: number; past_expiry: number }[]>`
    SELECT count(*)::int AS live, (count(*) FILTER (WHERE r.expires_at < now()))::int AS past_expiry
      FROM reservations r WHERE r.status = 'RESERVED'`;
  return { live: row?.live ?? 0, pastExpiry: row?.past_expiry ?? 0 };
}
