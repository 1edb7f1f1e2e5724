/**
 * Flash-sale campaigns on MySQL/MariaDB (issue 22, docs/mysql.md): data/campaigns/campaigns.ts
 * for InnoDB, with the same outcomes, DomainErrors and fences.
 *
 * Creating a campaign moves `quota` units of the level into `reserved` under the serial
 * campaign:<id> (a guarded UPDATE, its ledger row, the cache outbox row), so plain orders can
 * never take them; a campaign order takes its hold from the pool (`remaining`) and the user's
 * count, each with one guarded UPDATE; ending returns the unsold pool to the level, once.
 *
 * Lock order (docs/mysql.md "Lock order"): the serial's slot → the user's count → the campaign
 * row (the pool) → the level → the claims (hold, lines, fence). The hold's INSERT comes after
 * the pool's UPDATE on purpose: its foreign key check takes a shared lock on the campaign row,
 * which must not come before this transaction's X lock on it (S, then X, deadlocks with a
 * batch queued for the row). Pre-sales are not built here: creating one answers
 * STORE_NOT_SUPPORTED before anything is sent.
 */
import type { Pool } from 'mariadb';
import { requestedAllocation } from '../../domain/allocation';
import { DomainError, ErrorCode } from '../../domain/errors';
import {
  CampaignRefusal,
  campaignSerial,
  Operation,
  type OrderLine,
  type ReserveInput,
  type ReserveOutcome,
} from '../../domain/types';
import type { CampaignInput } from '../campaigns/campaign-types';
import { currentActor } from '../db';
import { AVAILABLE } from './holds';
import { inMariadbTx, isDuplicateKey, lockSerial, readMariadbFence, writeMariadbFence, type MariadbTx } from './tx';

/** Told the SKUs whose level a committed change moved (the cache drops them; the outbox row guarantees it). */
export type OnCommit = (skus: string[]) => Promise<void>;

/** Creates the campaign and sets its quota aside (ledger row by `actor`); idempotent by campaign id. */
export async function createCampaignOnMariadb(
  pool: Pool,
  input: CampaignInput,
  actor: string | undefined,
  onCommit: OnCommit,
): Promise<{ created: boolean }> {
  const serial = campaignSerial(input.id);
  const writer = currentActor(actor) ?? null;
  const result = await inMariadbTx(pool, async (tx) => {
    await lockSerial(tx, serial);
    const first = await readMariadbFence<CampaignInput>(tx, serial, Operation.CAMPAIGN_CREATE);
    if (first) {
      const same = (Object.keys(input) as (keyof CampaignInput)[]).every((k) => first[k] === input[k]);
      if (!same) {
        throw new DomainError(ErrorCode.CAMPAIGN_CONFLICT, `campaign ${input.id} exists with other settings`, {
          existing: first,
        });
      }
      return { created: false };
    }
    if (input.kind === 'FLASH_SALE') await setAside(tx, input, writer);
    else await ensureLevel(tx, input);
    await tx.query(
      `INSERT INTO campaigns (id, sku, warehouse_code, starts_at, ends_at, quota, per_user_limit, remaining, kind,
                              expected_at, allow_hold_extension)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        input.id,
        input.sku,
        input.warehouseCode,
        new Date(input.startsAt),
        new Date(input.endsAt),
        input.quota,
        input.perUserLimit,
        input.quota,
        input.kind,
        input.expectedAt ? new Date(input.expectedAt) : null,
        input.allowHoldExtension ?? false,
      ],
    );
    // Under the slot nobody else records this serial: a duplicate would be a second creation.
    if (!(await writeMariadbFence(tx, serial, Operation.CAMPAIGN_CREATE, input)))
      throw new Error(`campaign ${input.id} was recorded twice under its serial's lock`);
    return { created: true };
  });
  if (result.created) await onCommit([input.sku]);
  return result;
}

/** Moves a flash sale's quota out of available stock into the level's reserved: one guarded UPDATE. */
async function setAside(tx: MariadbTx, input: CampaignInput, actor: string | null): Promise<void> {
  const taken = await tx.query<{ affectedRows: number }>(
    `UPDATE inventory_levels il SET il.reserved = il.reserved + ?, il.version = il.version + 1, il.updated_at = UTC_TIMESTAMP(3)
      WHERE il.sku = ? AND il.warehouse_code = ? AND ${AVAILABLE} >= ?`,
    [input.quota, input.sku, input.warehouseCode, input.quota],
  );
  if (taken.affectedRows === 0) {
    await assertCatalogued(tx, input.sku, input.warehouseCode);
    throw new DomainError(
      ErrorCode.INSUFFICIENT_STOCK,
      `not enough ${input.sku} in ${input.warehouseCode} to set aside ${input.quota}`,
    );
  }
  await writeLevelMovement(
    tx,
    input.sku,
    input.warehouseCode,
    'CAMPAIGN_SET_ASIDE',
    campaignSerial(input.id),
    input.quota,
    actor,
  );
}

/**
 * A pre-sale sets nothing aside (its goods have not arrived): its level row is ensured, X-locked
 * by the upsert (never an INSERT caught at 1062, whose shared lock two creations would both
 * hold). Lot-tracked products are refused, as on PostgreSQL.
 */
async function ensureLevel(tx: MariadbTx, input: CampaignInput): Promise<void> {
  await assertCatalogued(tx, input.sku, input.warehouseCode);
  const [tracked] = await tx.query<unknown[]>('SELECT 1 FROM products WHERE sku = ? AND lot_tracked', [input.sku]);
  if (tracked) {
    // Allocating a pre-sale would need lots for goods that arrive later: not supported yet.
    throw new DomainError(
      ErrorCode.VALIDATION_FAILED,
      `pre-sales of lot-tracked products are not supported (${input.sku})`,
    );
  }
  await tx.query('INSERT INTO inventory_levels (sku, warehouse_code) VALUES (?, ?) ON DUPLICATE KEY UPDATE sku = sku', [
    input.sku,
    input.warehouseCode,
  ]);
}

/** UNKNOWN_PRODUCT, then UNKNOWN_WAREHOUSE, as data/stock/catalog.ts answers a refused request. */
async function assertCatalogued(tx: MariadbTx, sku: string, warehouseCode: string): Promise<void> {
  const [found] = await tx.query<{ sku: number; warehouse: number }[]>(
    `SELECT EXISTS (SELECT 1 FROM products WHERE sku = ?) AS sku, EXISTS (SELECT 1 FROM warehouses WHERE code = ?) AS warehouse`,
    [sku, warehouseCode],
  );
  if (!Number(found.sku)) throw new DomainError(ErrorCode.UNKNOWN_PRODUCT, `no product ${sku}`, { sku });
  if (!Number(found.warehouse))
    throw new DomainError(ErrorCode.UNKNOWN_WAREHOUSE, `no warehouse ${warehouseCode}`, { warehouseCode });
}

/**
 * The ledger row of a change to a level's reserved that this transaction just made (and holds
 * locked, so before = after − delta), and the cache outbox row of its SKU, in the same commit.
 */
async function writeLevelMovement(
  tx: MariadbTx,
  sku: string,
  warehouseCode: string,
  reason: string,
  reference: string,
  reservedDelta: number,
  actor: string | null,
): Promise<void> {
  await tx.query(
    `INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta, actor,
                                  on_hand_before, on_hand_after, reserved_before, reserved_after, incoming_before, incoming_after)
     SELECT sku, warehouse_code, ?, ?, 0, ?, ?, on_hand, on_hand, reserved - ?, reserved, incoming, incoming
       FROM inventory_levels WHERE sku = ? AND warehouse_code = ?`,
    [reason, reference, reservedDelta, actor, reservedDelta, sku, warehouseCode],
  );
  await tx.query('INSERT INTO cache_outbox (sku) VALUES (?)', [sku]);
}

/**
 * A campaign order's hold (the saga's reserve step): the user's count, then the pool, then the
 * hold's rows and its fence — one READ COMMITTED transaction under the serial's slot. The level
 * is untouched: the units are already held by the campaign's set-aside. A refusal rolls back to
 * the savepoint (the count's row too) and is fenced like a hold.
 */
export async function reserveFromCampaignOnMariadb(
  pool: Pool,
  input: ReserveInput & { campaignId: string },
  line: OrderLine,
): Promise<ReserveOutcome> {
  const serial = input.reservationId;
  return inMariadbTx(pool, async (tx) => {
    await lockSerial(tx, serial);
    // A plain read: the limit and the ship date never change (a locking read of the campaign
    // row here would take it before the pool's X lock).
    const [campaign] = await tx.query<{ per_user_limit: number; expected_at: Date | null }[]>(
      'SELECT per_user_limit, expected_at FROM campaigns WHERE id = ?',
      [input.campaignId],
    );
    if (!campaign) throw new DomainError(ErrorCode.CAMPAIGN_NOT_FOUND, `no campaign ${input.campaignId}`);
    const recorded = await readMariadbFence<ReserveOutcome>(tx, serial, Operation.RESERVE);
    if (recorded) return recorded;
    if (await readMariadbFence(tx, serial, Operation.RELEASE))
      return recordReserve(tx, serial, { status: 'rejected', reason: 'ALREADY_RELEASED' });

    await tx.query('SAVEPOINT hold');
    const refusal =
      (await takeUserQuota(tx, input.campaignId, input.userId, line.quantity, campaign.per_user_limit)) ??
      (await takePool(tx, input.campaignId, line.quantity));
    if (refusal) {
      await tx.query('ROLLBACK TO SAVEPOINT hold');
      return recordReserve(tx, serial, { status: 'rejected', reason: refusal });
    }
    const reserved: ReserveOutcome = {
      status: 'reserved',
      reservationId: serial,
      lines: [line],
      allocations: requestedAllocation([line]),
      expiresAt: new Date(input.expiresAt).toISOString(),
      ...(campaign.expected_at ? { expectedShipDate: campaign.expected_at.toISOString() } : {}),
    };
    try {
      await tx.query(
        `INSERT INTO reservations (id, order_id, user_id, campaign_id, status, expires_at, amount_cents)
         VALUES (?, ?, ?, ?, 'RESERVED', ?, ?)`,
        [serial, input.orderId, input.userId, input.campaignId, new Date(input.expiresAt), input.amountCents ?? null],
      );
    } catch (err) {
      // The hold batch claims a serial by its keys, not by its slot: it recorded this one first
      // (this INSERT waited for its commit). Its outcome stands; our count and pool go back.
      if (!isDuplicateKey(err)) throw err;
      await tx.query('ROLLBACK TO SAVEPOINT hold');
      return (await readMariadbFence<ReserveOutcome>(tx, serial, Operation.RESERVE))!;
    }
    await tx.query(
      'INSERT INTO reservation_lines (reservation_id, sku, warehouse_code, quantity) VALUES (?, ?, ?, ?)',
      [serial, line.sku, line.warehouseCode, line.quantity],
    );
    // The hold's row is ours, so nobody else can have recorded its reserve: a duplicate here
    // must not commit a hold under another outcome.
    if (!(await writeMariadbFence(tx, serial, Operation.RESERVE, reserved)))
      throw new Error(`the reserve of ${serial} was recorded by another transaction while it held the hold's row`);
    return reserved;
  });
}

/** Records a refusal; when another transaction recorded the serial first, its outcome. */
async function recordReserve(tx: MariadbTx, serial: string, outcome: ReserveOutcome): Promise<ReserveOutcome> {
  if (await writeMariadbFence(tx, serial, Operation.RESERVE, outcome)) return outcome;
  return (await readMariadbFence<ReserveOutcome>(tx, serial, Operation.RESERVE))!;
}

/**
 * Adds to the user's count unless that would pass the limit (mechanism 3): the row made sure
 * of (and X-locked), then a guarded UPDATE — 0 rows is exactly the limit refusing, since a
 * quantity above 0 always changes a matched row.
 */
async function takeUserQuota(
  tx: MariadbTx,
  campaignId: string,
  userId: string,
  quantity: number,
  limit: number,
): Promise<CampaignRefusal | undefined> {
  if (quantity > limit) return CampaignRefusal.LIMIT_REACHED;
  await tx.query(
    `INSERT INTO campaign_user_counts (campaign_id, user_id, quantity) VALUES (?, ?, 0)
     ON DUPLICATE KEY UPDATE quantity = quantity`,
    [campaignId, userId],
  );
  const added = await tx.query<{ affectedRows: number }>(
    `UPDATE campaign_user_counts SET quantity = quantity + ?
      WHERE campaign_id = ? AND user_id = ? AND quantity + ? <= ?`,
    [quantity, campaignId, userId, quantity, limit],
  );
  return added.affectedRows === 0 ? CampaignRefusal.LIMIT_REACHED : undefined;
}

/** Takes from the pool while the campaign is open and in its window (one guarded UPDATE); else says why not. */
async function takePool(tx: MariadbTx, campaignId: string, quantity: number): Promise<CampaignRefusal | undefined> {
  const taken = await tx.query<{ affectedRows: number }>(
    `UPDATE campaigns SET remaining = remaining - ?
      WHERE id = ? AND status = 'OPEN' AND starts_at <= UTC_TIMESTAMP(3) AND ends_at > UTC_TIMESTAMP(3) AND remaining >= ?`,
    [quantity, campaignId, quantity],
  );
  if (taken.affectedRows > 0) return undefined;
  const [c] = await tx.query<{ status: string; started: number; is_over: number }[]>(
    `SELECT status, starts_at <= UTC_TIMESTAMP(3) AS started, ends_at <= UTC_TIMESTAMP(3) AS is_over
       FROM campaigns WHERE id = ?`,
    [campaignId],
  );
  if (c.status !== 'OPEN' || Number(c.is_over)) return CampaignRefusal.ENDED;
  if (!Number(c.started)) return CampaignRefusal.NOT_STARTED;
  return CampaignRefusal.SOLD_OUT;
}

/** Closes the campaign and returns its unsold pool to the level's available stock; once only. */
export async function endCampaignOnMariadb(
  pool: Pool,
  campaignId: string,
  onCommit: OnCommit,
): Promise<{ returned: number }> {
  const serial = campaignSerial(campaignId);
  const writer = currentActor() ?? null;
  let touched: string | undefined;
  const outcome = await inMariadbTx(pool, async (tx) => {
    await lockSerial(tx, serial);
    const first = await readMariadbFence<{ returned: number }>(tx, serial, Operation.CAMPAIGN_END);
    if (first) return first;
    // The campaign row, then the level: every path that touches both takes them in this order.
    const [c] = await tx.query<
      { sku: string; warehouse_code: string; kind: string; remaining: number; status: string }[]
    >('SELECT sku, warehouse_code, kind, remaining, status FROM campaigns WHERE id = ? FOR UPDATE', [campaignId]);
    if (!c) throw new DomainError(ErrorCode.CAMPAIGN_NOT_FOUND, `no campaign ${campaignId}`);
    if (c.status !== 'OPEN') return { returned: 0 };
    await tx.query(`UPDATE campaigns SET status = 'ENDED', ended_at = UTC_TIMESTAMP(3), remaining = 0 WHERE id = ?`, [
      campaignId,
    ]);
    const returned = c.kind === 'FLASH_SALE' ? c.remaining : 0;
    if (returned > 0) {
      await tx.query(
        `UPDATE inventory_levels SET reserved = reserved - ?, version = version + 1, updated_at = UTC_TIMESTAMP(3)
          WHERE sku = ? AND warehouse_code = ?`,
        [returned, c.sku, c.warehouse_code],
      );
      await writeLevelMovement(tx, c.sku, c.warehouse_code, 'CAMPAIGN_RETURN', serial, -returned, writer);
      touched = c.sku;
    }
    const ended = { returned };
    if (!(await writeMariadbFence(tx, serial, Operation.CAMPAIGN_END, ended)))
      throw new Error(`the end of campaign ${campaignId} was recorded twice under its serial's lock`);
    return ended;
  });
  if (touched) await onCommit([touched]);
  return outcome;
}
