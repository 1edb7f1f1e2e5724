/**
 * The read side of campaigns on MySQL/MariaDB (issue 22, docs/mysql.md): the admin view, the
 * snapshot the Redis gate is rebuilt from, the list, and the small reads of the flash path —
 * data/campaigns/campaign-queries.ts and campaign-list.ts for InnoDB, same shapes.
 */
import type { Pool } from 'mariadb';
import { toPage, type KeyValue, type Page } from '../../domain/cursor';
import {
  CAMPAIGNS_LIST,
  type CampaignListRow,
  type CampaignView,
  type GateSnapshot,
} from '../campaigns/campaign-types';
import { jsonValue } from './tx';

interface CampaignRow {
  id: string;
  kind: string;
  status: string;
  sku: string;
  warehouse_code: string;
  starts_at: Date;
  ends_at: Date;
  quota: number;
  per_user_limit: number;
  remaining: number;
  expected_at: Date | null;
  created_at: Date;
}

const CAMPAIGN_COLUMNS = `id, kind, status, sku, warehouse_code, starts_at, ends_at, quota, per_user_limit, remaining,
  expected_at, created_at`;

export async function readCampaignOnMariadb(pool: Pool, campaignId: string): Promise<CampaignView | undefined> {
  const [c] = await pool.query<CampaignRow[]>(`SELECT ${CAMPAIGN_COLUMNS} FROM campaigns WHERE id = ?`, [campaignId]);
  if (!c) return undefined;
  const sums = await pool.query<{ status: string; quantity: number }[]>(
    `SELECT r.status, CAST(SUM(l.quantity) AS SIGNED) AS quantity
       FROM reservations r JOIN reservation_lines l ON l.reservation_id = r.id
      WHERE r.campaign_id = ? AND r.status IN ('RESERVED', 'CONFIRMED', 'BACKORDERED', 'REFUND_REQUIRED')
      GROUP BY r.status`,
    [campaignId],
  );
  const sum = (status: string) => Number(sums.find((s) => s.status === status)?.quantity ?? 0);
  const payments = await paymentsToMind(pool, campaignId);
  return {
    id: c.id,
    sku: c.sku,
    warehouseCode: c.warehouse_code,
    startsAt: c.starts_at.toISOString(),
    endsAt: c.ends_at.toISOString(),
    quota: c.quota,
    perUserLimit: c.per_user_limit,
    kind: c.kind,
    expectedAt: c.expected_at?.toISOString(),
    status: c.status,
    remaining: c.remaining,
    held: sum('RESERVED'),
    sold: sum('CONFIRMED'),
    backordered: sum('BACKORDERED'),
    refundRequired: sum('REFUND_REQUIRED'),
    ...payments,
  };
}

/** Payments on the campaign's orders an operator must look at (migration 0020_payments). */
async function paymentsToMind(
  pool: Pool,
  campaignId: string,
): Promise<{ lateConfirmed: number; paymentsToRefund: number }> {
  const [row] = await pool.query<{ late_confirmed: number | null; to_refund: number | null }[]>(
    `SELECT CAST(SUM(p.state = 'CONFIRMED' AND p.reservation_id <> p.order_id) AS SIGNED) AS late_confirmed,
            CAST(SUM(p.state IN ('REFUND_REQUIRED', 'DUPLICATE_CHARGE', 'AMOUNT_MISMATCH')) AS SIGNED) AS to_refund
       FROM payments p JOIN reservations r ON r.id = p.order_id
      WHERE r.campaign_id = ?`,
    [campaignId],
  );
  return { lateConfirmed: Number(row?.late_confirmed ?? 0), paymentsToRefund: Number(row?.to_refund ?? 0) };
}

/**
 * One statement, so the pool, the user counts and the receipts are one snapshot: InnoDB reads
 * a whole statement, subqueries included, from one read view (a separate read per part would
 * let a release committing in between be counted in one and not the other).
 */
export async function gateSnapshotOnMariadb(pool: Pool, campaignId: string): Promise<GateSnapshot | undefined> {
  const [c] = await pool.query<
    {
      sku: string;
      warehouse_code: string;
      starts_at: Date;
      ends_at: Date;
      per_user_limit: number;
      remaining: number;
      status: string;
      users: string | Record<string, number> | null;
      orders: string | Record<string, string> | null;
    }[]
  >(
    `SELECT c.sku, c.warehouse_code, c.starts_at, c.ends_at, c.per_user_limit, c.remaining, c.status,
            (SELECT JSON_OBJECTAGG(u.user_id, u.quantity) FROM campaign_user_counts u
              WHERE u.campaign_id = c.id AND u.quantity > 0) AS users,
            (SELECT JSON_OBJECTAGG(r.order_id, CONCAT((SELECT SUM(l.quantity) FROM reservation_lines l
                                                        WHERE l.reservation_id = r.id), ':', r.user_id))
               FROM reservations r
              WHERE r.campaign_id = c.id AND r.status <> 'RELEASED') AS orders
       FROM campaigns c WHERE c.id = ?`,
    [campaignId],
  );
  if (!c) return undefined;
  return {
    campaignId,
    sku: c.sku,
    warehouseCode: c.warehouse_code,
    startsAtMs: c.starts_at.getTime(),
    endsAtMs: c.ends_at.getTime(),
    perUserLimit: c.per_user_limit,
    remaining: c.remaining,
    ended: c.status !== 'OPEN',
    users: (jsonValue(c.users) as Record<string, number> | null) ?? {},
    orders: (jsonValue(c.orders) as Record<string, string> | null) ?? {},
  };
}

/** A campaign's fixed settings: where its units are and, for a pre-sale, the ship date. */
export async function campaignPlacementOnMariadb(
  pool: Pool,
  campaignId: string,
): Promise<{ sku: string; warehouseCode: string; expectedAt: Date | null } | undefined> {
  const [c] = await pool.query<{ sku: string; warehouse_code: string; expected_at: Date | null }[]>(
    'SELECT sku, warehouse_code, expected_at FROM campaigns WHERE id = ?',
    [campaignId],
  );
  return c ? { sku: c.sku, warehouseCode: c.warehouse_code, expectedAt: c.expected_at } : undefined;
}

/** Warms the campaign read (the statement and a connection); any campaign will do, none is fine. */
export async function warmCampaignReadOnMariadb(pool: Pool): Promise<void> {
  await pool.query('SELECT sku, warehouse_code, expected_at FROM campaigns LIMIT 1');
}

/** Holds the campaign's orders took in the last minute (its pace, for the console's sales page). */
export async function campaignOrdersLastMinuteOnMariadb(pool: Pool, campaignId: string): Promise<number> {
  const [row] = await pool.query<{ n: number }[]>(
    `SELECT COUNT(*) AS n FROM reservations
      WHERE campaign_id = ? AND created_at > UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE`,
    [campaignId],
  );
  return Number(row?.n ?? 0);
}

/** One page of campaigns (optionally of one status, kind or SKU), newest first; keyset (created_at, id). */
export async function listCampaignsOnMariadb(
  pool: Pool,
  f: { status?: string; kind?: string; sku?: string },
  limit: number,
  after?: KeyValue[],
): Promise<Page<CampaignListRow>> {
  const where: string[] = [];
  const args: unknown[] = [];
  for (const [column, value] of [
    ['status', f.status],
    ['kind', f.kind],
    ['sku', f.sku],
  ] as const) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    args.push(value);
  }
  if (after) {
    const [at, id] = [new Date(after[0]!), String(after[1])];
    where.push('(created_at < ? OR (created_at = ? AND id < ?))');
    args.push(at, at, id);
  }
  const rows = await pool.query<CampaignRow[]>(
    `SELECT ${CAMPAIGN_COLUMNS} FROM campaigns ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id DESC LIMIT ?`,
    [...args, limit + 1],
  );
  return toPage(
    CAMPAIGNS_LIST,
    rows,
    limit,
    (c) => [c.created_at.toISOString(), c.id],
    (c) => ({
      id: c.id,
      kind: c.kind,
      status: c.status,
      sku: c.sku,
      warehouseCode: c.warehouse_code,
      startsAt: c.starts_at.toISOString(),
      endsAt: c.ends_at.toISOString(),
      quota: c.quota,
      perUserLimit: c.per_user_limit,
      remaining: c.remaining,
      expectedAt: c.expected_at?.toISOString() ?? null,
      createdAt: c.created_at.toISOString(),
    }),
  );
}
