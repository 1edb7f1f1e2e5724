/**
 * Campaigns as a list (GET /admin/campaigns): newest first, one keyset page at a time
 * (domain/cursor.ts). The pool as stored; GET /campaigns/:id adds what was held and sold.
 */
import { toPage, type KeyPart, type KeyValue, type Page } from '../../domain/cursor';
import type { Prisma } from '../../generated/prisma/client';
import type { Db } from '../db';
import { mariadbOf } from '../mariadb/db';
import { listCampaignsOnMariadb } from '../mariadb/campaign-queries';
import { CAMPAIGNS_LIST, type CampaignListRow } from './campaign-types';

export { CAMPAIGNS_LIST } from './campaign-types';
export const CAMPAIGNS_KEY: readonly KeyPart[] = ['instant', 'text'];

export type { CampaignListRow } from './campaign-types';

/** One page of campaigns (optionally of one status, kind or SKU), newest first. */
export async function listCampaigns(
  db: Db,
  f: { status?: string; kind?: string; sku?: string },
  limit: number,
  after?: KeyValue[],
): Promise<Page<CampaignListRow>> {
  const maria = mariadbOf(db);
  if (maria) return listCampaignsOnMariadb(maria, f, limit, after);
  const where: Prisma.CampaignWhereInput = { status: f.status, kind: f.kind, sku: f.sku };
  if (after) {
    const [at, id] = [new Date(after[0]!), String(after[1])];
    where.OR = [{ createdAt: { lt: at } }, { createdAt: at, id: { lt: id } }];
  }
  const rows = await db.campaign.findMany({ where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], take: limit + 1 });
  return toPage(
    CAMPAIGNS_LIST,
    rows,
    limit,
    (c) => [c.createdAt.toISOString(), c.id],
    (c) => ({
      id: c.id,
      kind: c.kind,
      status: c.status,
      sku: c.sku,
      warehouseCode: c.warehouseCode,
      startsAt: c.startsAt.toISOString(),
      endsAt: c.endsAt.toISOString(),
      quota: c.quota,
      perUserLimit: c.perUserLimit,
      remaining: c.remaining,
      expectedAt: c.expectedAt?.toISOString() ?? null,
      createdAt: c.createdAt.toISOString(),
    }),
  );
}
