/**
 * Orders and holds as lists on MySQL/MariaDB (issue 22): the rows of data/orders/lists.ts
 * (GET /orders, GET /admin/holds), one keyset page at a time; the caller pages and shapes them.
 * Each row's lines come from a second query in lock order (MySQL 8 has no ORDER BY inside
 * JSON_ARRAYAGG, and one dialect serves both servers).
 */
import type { Pool } from 'mariadb';
import type { OrderLine } from '../../domain/types';

/** A hold's row with its lines, as both stores give it to the list. */
export interface ListedHold {
  id: string;
  order_id: string;
  user_id: string;
  status: string;
  campaign_id: string | null;
  amount_cents: number | null;
  payment_id: string | null;
  release_reason: string | null;
  created_at: Date;
  expires_at: Date;
  past_expiry: boolean;
  lines: OrderLine[];
}

/** The filters of the two lists, as data/orders/lists.ts takes them. */
export interface ListFilter {
  readonly status?: string;
  readonly userId?: string;
  readonly sku?: string;
  readonly warehouseCode?: string;
  readonly campaignId?: string;
  readonly from?: Date;
  readonly to?: Date;
  readonly placedBy?: string;
  readonly pastExpiry?: boolean;
}

type Where = { sql: string[]; params: unknown[] };

function where(f: ListFilter): Where {
  const w: Where = { sql: [], params: [] };
  const add = (sql: string, ...params: unknown[]) => {
    w.sql.push(sql);
    w.params.push(...params);
  };
  if (f.status) add('r.status = ?', f.status);
  if (f.userId) add('r.user_id = ?', f.userId);
  if (f.campaignId) add('r.campaign_id = ?', f.campaignId);
  if (f.sku || f.warehouseCode)
    add(
      `EXISTS (SELECT 1 FROM reservation_lines l WHERE l.reservation_id = r.id
                 AND (? IS NULL OR l.sku = ?) AND (? IS NULL OR l.warehouse_code = ?))`,
      f.sku ?? null,
      f.sku ?? null,
      f.warehouseCode ?? null,
      f.warehouseCode ?? null,
    );
  if (f.from) add('r.created_at >= ?', f.from);
  if (f.to) add('r.created_at < ?', f.to);
  if (f.pastExpiry === true) add('r.expires_at < UTC_TIMESTAMP(3)');
  if (f.pastExpiry === false) add('r.expires_at >= UTC_TIMESTAMP(3)');
  if (f.placedBy)
    // The key that placed it: its saga's input, or the hold's ledger row (orderPlacedBy reads the same two).
    add(
      `(EXISTS (SELECT 1 FROM saga_starts s WHERE s.order_id = r.order_id AND JSON_UNQUOTE(JSON_EXTRACT(s.input, '$.placedBy')) = ?)
        OR EXISTS (SELECT 1 FROM stock_movements m WHERE m.reference = r.order_id AND m.reason = 'RESERVE' AND m.actor = ?))`,
      f.placedBy,
      f.placedBy,
    );
  return w;
}

async function select(pool: Pool, w: Where, order: string, limit: number): Promise<ListedHold[]> {
  const rows = await pool.query<(Omit<ListedHold, 'past_expiry' | 'lines'> & { past_expiry: number })[]>(
    `SELECT r.id, r.order_id, r.user_id, r.status, r.campaign_id, r.amount_cents, r.payment_id, r.release_reason,
            r.created_at, r.expires_at, r.expires_at < UTC_TIMESTAMP(3) AS past_expiry
       FROM reservations r
      WHERE ${w.sql.length ? w.sql.join(' AND ') : 'TRUE'}
      ORDER BY ${order}
      LIMIT ?`,
    [...w.params, limit + 1],
  );
  const lines = new Map<string, OrderLine[]>(rows.map((r) => [r.id, []]));
  if (rows.length > 0) {
    const all = await pool.query<{ reservation_id: string; sku: string; warehouse_code: string; quantity: number }[]>(
      `SELECT reservation_id, sku, warehouse_code, quantity FROM reservation_lines
        WHERE reservation_id IN (?) ORDER BY reservation_id, sku, warehouse_code`,
      [rows.map((r) => r.id)],
    );
    for (const l of all)
      lines.get(l.reservation_id)?.push({ sku: l.sku, warehouseCode: l.warehouse_code, quantity: l.quantity });
  }
  return rows.map((r) => ({ ...r, past_expiry: Boolean(r.past_expiry), lines: lines.get(r.id) ?? [] }));
}

/** Up to `limit` + 1 orders, newest first, after (createdAt, id) when given. */
export function listOrdersOnMariadb(
  pool: Pool,
  f: ListFilter,
  limit: number,
  after?: [Date, string],
): Promise<ListedHold[]> {
  const w = where(f);
  if (after) {
    w.sql.push('(r.created_at, r.id) < (?, ?)');
    w.params.push(...after);
  }
  return select(pool, w, 'r.created_at DESC, r.id DESC', limit);
}

/** Up to `limit` + 1 live holds, soonest to expire first, after (expiresAt, id) when given. */
export function listHoldsOnMariadb(
  pool: Pool,
  f: ListFilter,
  limit: number,
  after?: [Date, string],
): Promise<ListedHold[]> {
  const w = where({ ...f, status: 'RESERVED' });
  if (after) {
    w.sql.push('(r.expires_at, r.id) > (?, ?)');
    w.params.push(...after);
  }
  return select(pool, w, 'r.expires_at, r.id', limit);
}

/** How many holds are live, and how many of them are past their expiry. */
export async function countHoldsOnMariadb(pool: Pool): Promise<{ live: number; pastExpiry: number }> {
  const [row] = await pool.query<{ live: unknown; past_expiry: unknown }[]>(
    `SELECT COUNT(*) AS live, COALESCE(SUM(r.expires_at < UTC_TIMESTAMP(3)), 0) AS past_expiry
       FROM reservations r WHERE r.status = 'RESERVED'`,
  );
  return { live: Number(row?.live ?? 0), pastExpiry: Number(row?.past_expiry ?? 0) };
}
