/**
 * Flash-sale campaigns on PostgreSQL, the authority behind the Redis gate.
 *
 * Creating a campaign moves `quota` units of the level into `reserved` under the serial
 * campaign:<id>, so normal orders can never take them. A campaign order takes its hold from
 * the campaign's pool (`remaining`) with one conditional UPDATE, and the user's count with
 * one conditional upsert; the level is untouched because the units are already held. A
 * released campaign hold goes back to the pool while the campaign is open, and to normal
 * stock once it has ended, when the unsold pool is returned too.
 *
 * Lock order everywhere: user count → campaign → level, so no two steps can deadlock.
 */
import { DomainError, ErrorCode } from '../../domain/errors';
import {
  CampaignRefusal,
  campaignSerial,
  Operation,
  type OrderLine,
  type ReserveInput,
  type ReserveOutcome,
} from '../../domain/types';
import { assertCatalogued } from '../stock/catalog';
import { inKeyLockedTx, readFence, skusCommitted, writeFence, writeMovements, type Db, type Tx } from '../db';
import { overdrawn } from '../stock/guard';
import { releaseLevelHolds } from '../stock/levels';
import { reserveWith } from './hold';
import { AVAILABLE, BUMP_VERSION } from '../stock/level-sql';
import type { CampaignInput } from './campaign-types';
import { mariadbOf } from '../mariadb/db';
import { createCampaignOnMariadb, endCampaignOnMariadb, reserveFromCampaignOnMariadb } from '../mariadb/campaigns';

export type { CampaignInput } from './campaign-types';

/** Creates the campaign and sets its quota aside (ledger rows by `actor`); idempotent by campaign id. */
export async function createCampaign(db: Db, input: CampaignInput, actor?: string): Promise<{ created: boolean }> {
  const maria = mariadbOf(db);
  if (maria) return createCampaignOnMariadb(maria, input, actor, (skus) => skusCommitted(db, skus));
  return inKeyLockedTx(
    db,
    campaignSerial(input.id),
    async (tx) => {
      const first = await readFence<CampaignInput>(tx, campaignSerial(input.id), Operation.CAMPAIGN_CREATE);
      if (first) {
        const same = (Object.keys(input) as (keyof CampaignInput)[]).every((k) => first[k] === input[k]);
        if (!same) {
          throw new DomainError(ErrorCode.CAMPAIGN_CONFLICT, `campaign ${input.id} exists with other settings`, {
            existing: first,
          });
        }
        return { created: false };
      }
      if (input.kind === 'FLASH_SALE') await setAside(tx, input);
      else await ensureLevel(tx, input);
      await tx.campaign.create({
        data: {
          ...input,
          startsAt: new Date(input.startsAt),
          endsAt: new Date(input.endsAt),
          expectedAt: input.expectedAt ? new Date(input.expectedAt) : null,
          remaining: input.quota,
        },
      });
      await writeFence(tx, campaignSerial(input.id), Operation.CAMPAIGN_CREATE, input);
      return { created: true };
    },
    actor,
  );
}

/** Moves a flash sale's quota out of available stock into the level's reserved. */
async function setAside(tx: Tx, input: CampaignInput): Promise<void> {
  const taken = await tx.$executeRaw`
    UPDATE inventory_levels SET reserved = reserved + ${input.quota}, ${BUMP_VERSION}
     WHERE sku = ${input.sku} AND warehouse_code = ${input.warehouseCode}
       AND ${AVAILABLE} >= ${input.quota}`;
  // Taken on a stale view of the lots (guard.ts): the throw rolls the whole creation back.
  if (taken === 0 || (await overdrawn(tx, [input])).length > 0) {
    await assertCatalogued(tx, [input.sku], [input.warehouseCode]);
    throw new DomainError(
      ErrorCode.INSUFFICIENT_STOCK,
      `not enough ${input.sku} in ${input.warehouseCode} to set aside ${input.quota}`,
    );
  }
  await writeMovements(tx, [
    {
      sku: input.sku,
      warehouseCode: input.warehouseCode,
      reason: 'CAMPAIGN_SET_ASIDE',
      reference: campaignSerial(input.id),
      onHandDelta: 0,
      reservedDelta: input.quota,
    },
  ]);
}

/** A pre-sale's goods have not arrived: the level may not exist yet, so create it empty. */
async function ensureLevel(tx: Tx, input: CampaignInput): Promise<void> {
  await assertCatalogued(tx, [input.sku], [input.warehouseCode]);
  if ((await tx.product.count({ where: { sku: input.sku, lotTracked: true } })) > 0) {
    // Allocating a pre-sale would need lots for goods that arrive later: not supported yet.
    throw new DomainError(
      ErrorCode.VALIDATION_FAILED,
      `pre-sales of lot-tracked products are not supported (${input.sku})`,
    );
  }
  await tx.$executeRaw`
    INSERT INTO inventory_levels (sku, warehouse_code) VALUES (${input.sku}, ${input.warehouseCode}) ON CONFLICT DO NOTHING`;
}

/**
 * Takes a campaign order's hold from the pool: the user's count (a cold row), then the
 * campaign's pool (the hot row) last, so its lock is held for as little as possible. The
 * level is untouched: the units are already held by the campaign's set-aside.
 */
export async function reserveFromCampaign(
  db: Db,
  input: ReserveInput & { campaignId: string },
): Promise<ReserveOutcome> {
  const line = singleLine(input.lines);
  const maria = mariadbOf(db);
  if (maria) return reserveFromCampaignOnMariadb(maria, input, line);
  const campaign = await db.campaign.findUnique({ where: { id: input.campaignId }, select: { expectedAt: true } });
  if (!campaign) throw new DomainError(ErrorCode.CAMPAIGN_NOT_FOUND, `no campaign ${input.campaignId}`);
  return reserveWith(db, input, {
    lines: [line],
    campaignId: input.campaignId,
    expectedShipDate: campaign.expectedAt?.toISOString(),
    movements: [],
    take: async (tx) => {
      const refusal =
        (await takeUserQuota(tx, input.campaignId, input.userId, line.quantity)) ??
        (await takePool(tx, input.campaignId, line.quantity));
      return refusal ? async () => ({ status: 'rejected', reason: refusal }) : undefined;
    },
  });
}

function singleLine(lines: ReserveInput['lines']): OrderLine {
  const [line] = lines;
  if (lines.length !== 1 || line.warehouseCode === undefined) {
    throw new DomainError(
      ErrorCode.VALIDATION_FAILED,
      "a campaign order has exactly one line, in the campaign's warehouse",
    );
  }
  return { sku: line.sku, warehouseCode: line.warehouseCode, quantity: line.quantity };
}

/** Adds to the user's count unless that would pass the campaign's per-user limit. */
async function takeUserQuota(
  tx: Tx,
  campaignId: string,
  userId: string,
  quantity: number,
): Promise<CampaignRefusal | undefined> {
  const rows = await tx.$queryRaw<{ quantity: number }[]>`
    INSERT INTO campaign_user_counts AS u (campaign_id, user_id, quantity)
    SELECT id, ${userId}, ${quantity} FROM campaigns WHERE id = ${campaignId} AND per_user_limit >= ${quantity}
    ON CONFLICT (campaign_id, user_id) DO UPDATE SET quantity = u.quantity + EXCLUDED.quantity
     WHERE u.quantity + EXCLUDED.quantity <= (SELECT per_user_limit FROM campaigns WHERE id = ${campaignId})
    RETURNING u.quantity`;
  if (rows.length > 0) return undefined;
  const exists = await tx.campaign.count({ where: { id: campaignId } });
  if (!exists) throw new DomainError(ErrorCode.CAMPAIGN_NOT_FOUND, `no campaign ${campaignId}`);
  return CampaignRefusal.LIMIT_REACHED;
}

/** Takes from the pool while the campaign is open and in its window; else says why not. */
async function takePool(tx: Tx, campaignId: string, quantity: number): Promise<CampaignRefusal | undefined> {
  const taken = await tx.$executeRaw`
    UPDATE campaigns SET remaining = remaining - ${quantity}
     WHERE id = ${campaignId} AND status = 'OPEN' AND starts_at <= now() AND ends_at > now() AND remaining >= ${quantity}`;
  if (taken > 0) return undefined;
  const c = await tx.$queryRaw<{ status: string; started: boolean; over: boolean }[]>`
    SELECT status, starts_at <= now() AS started, ends_at <= now() AS over FROM campaigns WHERE id = ${campaignId}`;
  if (c[0].status !== 'OPEN' || c[0].over) return CampaignRefusal.ENDED;
  if (!c[0].started) return CampaignRefusal.NOT_STARTED;
  return CampaignRefusal.SOLD_OUT;
}

/**
 * Gives a released campaign hold back: the user's count always; the units to the pool while
 * the campaign is open, to normal stock (reserved −q, with a ledger row) once it has ended.
 * Called inside the release transaction.
 */
export async function returnCampaignHold(
  tx: Tx,
  reservationId: string,
  campaignId: string,
  userId: string,
  line: OrderLine,
): Promise<'pool' | 'stock'> {
  await tx.$executeRaw`
    UPDATE campaign_user_counts SET quantity = quantity - ${line.quantity}
     WHERE campaign_id = ${campaignId} AND user_id = ${userId}`;
  const pooled = await tx.$executeRaw`
    UPDATE campaigns SET remaining = remaining + ${line.quantity} WHERE id = ${campaignId} AND status = 'OPEN'`;
  if (pooled > 0) return 'pool';
  // A pre-order held no stock (there was none yet): nothing goes back to the level.
  const kind = await tx.campaign.findUniqueOrThrow({ where: { id: campaignId }, select: { kind: true } });
  if (kind.kind === 'PRE_SALE') return 'pool';
  await releaseLevelHolds(tx, reservationId, [line]);
  return 'stock';
}

/** Closes the campaign and returns its unsold pool to normal stock; once only. */
export async function endCampaign(db: Db, campaignId: string): Promise<{ returned: number }> {
  const maria = mariadbOf(db);
  if (maria) return endCampaignOnMariadb(maria, campaignId, (skus) => skusCommitted(db, skus));
  const serial = campaignSerial(campaignId);
  return inKeyLockedTx(db, serial, async (tx) => {
    const first = await readFence<{ returned: number }>(tx, serial, Operation.CAMPAIGN_END);
    if (first) return first;
    const rows = await tx.$queryRaw<{ sku: string; warehouse_code: string; returned: number }[]>`
      WITH old AS (SELECT id, remaining FROM campaigns WHERE id = ${campaignId} AND status = 'OPEN' FOR UPDATE)
      UPDATE campaigns c SET status = 'ENDED', ended_at = now(), remaining = 0
        FROM old WHERE c.id = old.id
      RETURNING c.sku, c.warehouse_code, CASE WHEN c.kind = 'FLASH_SALE' THEN old.remaining ELSE 0 END AS returned`;
    if (rows.length === 0) {
      if (!(await tx.campaign.count({ where: { id: campaignId } })))
        throw new DomainError(ErrorCode.CAMPAIGN_NOT_FOUND, `no campaign ${campaignId}`);
      return { returned: 0 };
    }
    const { sku, warehouse_code: warehouseCode, returned } = rows[0];
    if (returned > 0) {
      await tx.$executeRaw`
        UPDATE inventory_levels SET reserved = reserved - ${returned}, ${BUMP_VERSION}
         WHERE sku = ${sku} AND warehouse_code = ${warehouseCode}`;
      await writeMovements(tx, [
        { sku, warehouseCode, reason: 'CAMPAIGN_RETURN', reference: serial, onHandDelta: 0, reservedDelta: -returned },
      ]);
    }
    const outcome = { returned };
    await writeFence(tx, serial, Operation.CAMPAIGN_END, outcome);
    return outcome;
  });
}
