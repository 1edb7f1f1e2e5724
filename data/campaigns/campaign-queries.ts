/** Read side of campaigns: the admin view and the snapshot the Redis gate is rebuilt from. */
import type { CampaignView, GateSnapshot } from './campaign-types';
import type { Db } from '../db';
import { mariadbOf } from '../mariadb/db';
import {
  campaignOrdersLastMinuteOnMariadb,
  campaignPlacementOnMariadb,
  gateSnapshotOnMariadb,
  readCampaignOnMariadb,
  warmCampaignReadOnMariadb,
} from '../mariadb/campaign-queries';

export type { CampaignView, GateSnapshot } from './campaign-types';

export async function readCampaign(db: Db, campaignId: string): Promise<CampaignView | undefined> {
  const maria = mariadbOf(db);
  if (maria) return readCampaignOnMariadb(maria, campaignId);
  const c = await db.campaign.findUnique({ where: { id: campaignId } });
  if (!c) return undefined;
  const sums = await db.$queryRaw<{ status: string; quantity: number }[]>`
    SELECT r.status, SUM(l.quantity)::int AS quantity
      FROM reservations r JOIN reservation_lines l ON l.reservation_id = r.id
     WHERE r.campaign_id = ${campaignId} AND r.status IN ('RESERVED', 'CONFIRMED', 'BACKORDERED', 'REFUND_REQUIRED')
     GROUP BY r.status`;
  const sum = (status: string) => sums.find((s) => s.status === status)?.quantity ?? 0;
  const [payments] = await db.$queryRaw<{ late_confirmed: number; to_refund: number }[]>`
    SELECT COUNT(*) FILTER (WHERE p.state = 'CONFIRMED' AND p.reservation_id <> p.order_id)::int AS late_confirmed,
           COUNT(*) FILTER (WHERE p.state IN ('REFUND_REQUIRED', 'DUPLICATE_CHARGE', 'AMOUNT_MISMATCH'))::int AS to_refund
      FROM payments p JOIN reservations r ON r.id = p.order_id
     WHERE r.campaign_id = ${campaignId}`;
  return {
    id: c.id,
    sku: c.sku,
    warehouseCode: c.warehouseCode,
    startsAt: c.startsAt.toISOString(),
    endsAt: c.endsAt.toISOString(),
    quota: c.quota,
    perUserLimit: c.perUserLimit,
    kind: c.kind,
    expectedAt: c.expectedAt?.toISOString(),
    status: c.status,
    remaining: c.remaining,
    held: sum('RESERVED'),
    sold: sum('CONFIRMED'),
    backordered: sum('BACKORDERED'),
    refundRequired: sum('REFUND_REQUIRED'),
    lateConfirmed: payments.late_confirmed,
    paymentsToRefund: payments.to_refund,
  };
}

/**
 * One statement, so the pool, the user counts and the receipts are one snapshot: read
 * separately, a release committing in between would be counted in one and not the other.
 */
export async function gateSnapshot(db: Db, campaignId: string): Promise<GateSnapshot | undefined> {
  const maria = mariadbOf(db);
  if (maria) return gateSnapshotOnMariadb(maria, campaignId);
  const [c] = await db.$queryRaw<
    {
      sku: string;
      warehouse_code: string;
      starts_at: Date;
      ends_at: Date;
      per_user_limit: number;
      remaining: number;
      status: string;
      users: Record<string, number> | null;
      orders: Record<string, string> | null;
    }[]
  >`
    SELECT c.sku, c.warehouse_code, c.starts_at, c.ends_at, c.per_user_limit, c.remaining, c.status,
           (SELECT jsonb_object_agg(u.user_id, u.quantity) FROM campaign_user_counts u
             WHERE u.campaign_id = c.id AND u.quantity > 0) AS users,
           (SELECT jsonb_object_agg(r.order_id, l.quantity || ':' || r.user_id)
              FROM reservations r
              JOIN LATERAL (SELECT sum(quantity) AS quantity FROM reservation_lines
                             WHERE reservation_id = r.id) l ON true
             WHERE r.campaign_id = c.id AND r.status <> 'RELEASED') AS orders
      FROM campaigns c WHERE c.id = ${campaignId}`;
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
    users: c.users ?? {},
    orders: c.orders ?? {},
  };
}

/** A campaign's fixed settings: where its units are and, for a pre-sale, the ship date; undefined if there is no such campaign. */
export async function campaignPlacement(
  db: Db,
  campaignId: string,
): Promise<{ sku: string; warehouseCode: string; expectedAt: Date | null } | undefined> {
  const maria = mariadbOf(db);
  if (maria) return campaignPlacementOnMariadb(maria, campaignId);
  return (
    (await db.campaign.findUnique({
      where: { id: campaignId },
      select: { sku: true, warehouseCode: true, expectedAt: true },
    })) ?? undefined
  );
}

/**
 * Warms the campaign read (the statement and a connection) so the first order of a sale does
 * not pay for it: any campaign will do, none is fine.
 */
export async function warmCampaignRead(db: Db): Promise<void> {
  const maria = mariadbOf(db);
  if (maria) return warmCampaignReadOnMariadb(maria);
  await db.campaign.findFirst({ select: { sku: true, warehouseCode: true, expectedAt: true } });
}

/** Holds the campaign's orders took in the last minute (its pace, for the console's sales page). */
export async function campaignOrdersLastMinute(db: Db, campaignId: string): Promise<number> {
  const maria = mariadbOf(db);
  if (maria) return campaignOrdersLastMinuteOnMariadb(maria, campaignId);
  const [row] = await db.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM reservations
     WHERE campaign_id = ${campaignId} AND created_at > now() - interval '1 minute'`;
  return row?.n ?? 0;
}
