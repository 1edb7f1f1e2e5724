/**
 * Transfer steps on MySQL/MariaDB (issue 22): data/transfers/transfers.ts for InnoDB, with the
 * same outcomes, errors and fences. Each step is one READ COMMITTED transaction under the
 * transfer's serial (`transfer:<id>`, also its hold's id) through inMariadbStockTx: its fence
 * read, the transfer row locked, the two level rows X-locked in byte order of warehouse code
 * (the destination's row ensured by an upsert that takes its X lock in that same place, never
 * an INSERT caught at 1062, whose shared lock would deadlock two shipments to one warehouse),
 * the level changes with their ledger rows and cache_outbox rows, the transfer's new status and
 * the fence, all in one commit. While a transfer is SHIPPED its quantity is the destination's
 * incoming bucket, which reconciliation compares with this table (INCOMING_VS_TRANSFERS).
 *
 * Lot-tracked SKUs: the shipment takes its units from the source's lots first-expiring-first
 * (sellable lots first, as the sale's confirm does) and records them on the transfer; the
 * receipt (or the return) brings them back into the same lot codes with their use-by dates.
 * Every change to a lot-tracked level runs inside withLevelLots, so the lots are asserted to
 * sum to on-hand before the commit (InnoDB has no deferred constraint).
 *
 * Ledger rows: writeMariadbMovements reads each row's before from the level as this
 * transaction left it, so a level changed in several parts (lot by lot, then a loss) is
 * updated and written one part at a time; each row's before/after is then exact.
 */
import type { Pool } from 'mariadb';
import { compareBytes } from '../../domain/byte-order';
import { DomainError, ErrorCode } from '../../domain/errors';
import { pickFefo, type ConsumedLot } from '../../domain/stock';
import { pickLotsFefo } from './lots';
import {
  TransferStatus,
  transferHoldId,
  type TransferReceipt,
  type TransferRequest,
  type TransferRequestOutcome,
  type TransferStepOutcome,
} from '../../domain/transfers';
import { Operation, ReleaseReason } from '../../domain/types';
import { currentActor, type Db } from '../db';
import { productOnMariadb, type MariadbProduct } from './catalog';
import { releaseInMariadbTx } from './holds';
import { withLevelLots } from './lots';
import { holdInMariadbTx } from './reserve';
import { addToLotOnMariadb } from './stock-admin';
import { inMariadbStockTx, writeMariadbMovements, type MariadbMovement } from './stock-tx';
import { isDuplicateKey, jsonValue, readMariadbFence, writeMariadbFence, type MariadbTx } from './tx';

/** A transfer hold ends by shipping or cancelling, never by time: the sweeper must not take it. */
const HOLD_NEVER_EXPIRES = new Date('9999-12-31T00:00:00.000Z');

/** Holds the quantity at the source and records the transfer, in one commit; a repeat answers the first outcome. */
export async function requestTransferOnMariadb(
  db: Db,
  pool: Pool,
  r: TransferRequest,
): Promise<TransferRequestOutcome> {
  const serial = transferHoldId(r.transferId);
  return inMariadbStockTx(db, pool, serial, async (tx) => {
    await checkRequest(tx, r);
    const { outcome: held } = await holdInMariadbTx(tx, {
      serial,
      orderId: r.transferId,
      userId: 'transfer',
      lines: [{ sku: r.sku, warehouseCode: r.fromWarehouse, quantity: r.quantity }],
      expiresAt: HOLD_NEVER_EXPIRES,
      actor: currentActor(),
    });
    const status = held.status === 'reserved' ? TransferStatus.REQUESTED : TransferStatus.REJECTED;
    try {
      await tx.query(
        'INSERT INTO transfers (id, sku, from_warehouse, to_warehouse, quantity, status) VALUES (?, ?, ?, ?, ?, ?)',
        [r.transferId, r.sku, r.fromWarehouse, r.toWarehouse, r.quantity, status],
      );
    } catch (err) {
      // Recorded by the first request (PostgreSQL's skipDuplicates): its row stands.
      if (!isDuplicateKey(err)) throw err;
    }
    if (held.status === 'reserved') return { status: 'requested' };
    return { status: 'rejected', shortages: held.reason === 'INSUFFICIENT_STOCK' ? held.shortages : [] };
  });
}

async function checkRequest(tx: MariadbTx, r: TransferRequest): Promise<void> {
  if (r.fromWarehouse === r.toWarehouse)
    throw new DomainError(ErrorCode.VALIDATION_FAILED, 'a transfer needs two different warehouses');
  if (!(await productOnMariadb(tx, r.sku))) throw new DomainError(ErrorCode.UNKNOWN_PRODUCT, `no product ${r.sku}`);
  const [{ found }] = await tx.query<{ found: bigint | number }[]>(
    'SELECT COUNT(*) AS found FROM warehouses WHERE code IN (?, ?)',
    [r.fromWarehouse, r.toWarehouse],
  );
  if (Number(found) < 2)
    throw new DomainError(ErrorCode.UNKNOWN_WAREHOUSE, `no warehouse ${r.fromWarehouse} or ${r.toWarehouse}`);
  const [existing] = await tx.query<{ sku: string; from_warehouse: string; to_warehouse: string; quantity: number }[]>(
    'SELECT sku, from_warehouse, to_warehouse, quantity FROM transfers WHERE id = ?',
    [r.transferId],
  );
  if (
    existing &&
    (existing.sku !== r.sku ||
      existing.from_warehouse !== r.fromWarehouse ||
      existing.to_warehouse !== r.toWarehouse ||
      existing.quantity !== r.quantity)
  ) {
    throw new DomainError(ErrorCode.TRANSFER_CONFLICT, `transfer ${r.transferId} exists with other content`);
  }
}

interface TransferRow {
  readonly sku: string;
  readonly from_warehouse: string;
  readonly to_warehouse: string;
  readonly quantity: number;
  readonly status: TransferStatus;
  readonly shipped_lots: ConsumedLot[] | null;
}

/**
 * Runs one step once: the fence returns a recorded outcome; a transfer not in `expected`
 * status is refused (unrecorded: the state, not the request, decided it).
 */
async function step(
  db: Db,
  pool: Pool,
  transferId: string,
  operation: Operation,
  expected: TransferStatus,
  work: (tx: MariadbTx, t: TransferRow, serial: string) => Promise<TransferStepOutcome>,
): Promise<TransferStepOutcome> {
  const serial = transferHoldId(transferId);
  return inMariadbStockTx(db, pool, serial, async (tx) => {
    const first = await readMariadbFence<TransferStepOutcome>(tx, serial, operation);
    if (first) return first;
    const [row] = await tx.query<(Omit<TransferRow, 'shipped_lots'> & { shipped_lots: unknown })[]>(
      'SELECT sku, from_warehouse, to_warehouse, quantity, status, shipped_lots FROM transfers WHERE id = ? FOR UPDATE',
      [transferId],
    );
    if (!row) return { status: 'refused', transferStatus: 'MISSING' };
    if (row.status !== expected) return { status: 'refused', transferStatus: row.status };
    const t: TransferRow = { ...row, shipped_lots: (jsonValue(row.shipped_lots) as ConsumedLot[] | null) ?? null };
    const outcome = await work(tx, t, serial);
    await writeMariadbFence(tx, serial, operation, outcome);
    return outcome;
  });
}

/**
 * X-locks the transfer's two level rows in byte order of warehouse code (domain/byte-order.ts,
 * the order every multi-row lock takes), the destination's created if missing. Its upsert
 * (ON DUPLICATE KEY UPDATE, a no-op change) takes the row's X lock in its place in that order.
 */
async function lockEnds(tx: MariadbTx, t: TransferRow): Promise<void> {
  const ends = [t.from_warehouse, t.to_warehouse].sort(compareBytes);
  for (const warehouseCode of ends) {
    if (warehouseCode === t.to_warehouse)
      await tx.query(
        'INSERT INTO inventory_levels (sku, warehouse_code) VALUES (?, ?) ON DUPLICATE KEY UPDATE sku = sku',
        [t.sku, warehouseCode],
      );
    else
      await tx.query('SELECT 1 FROM inventory_levels WHERE sku = ? AND warehouse_code = ? FOR UPDATE', [
        t.sku,
        warehouseCode,
      ]);
  }
}

/** Changes one level's buckets and writes its ledger row (the level locked by lockEnds). */
async function changeLevel(tx: MariadbTx, m: MariadbMovement): Promise<void> {
  await tx.query(
    `UPDATE inventory_levels SET on_hand = on_hand + ?, reserved = reserved + ?, incoming = incoming + ?,
            version = version + 1, updated_at = UTC_TIMESTAMP(3)
      WHERE sku = ? AND warehouse_code = ?`,
    [m.onHandDelta, m.reservedDelta, m.incomingDelta ?? 0, m.sku, m.warehouseCode],
  );
  await writeMariadbMovements(tx, [m]);
}

async function productOf(tx: MariadbTx, sku: string): Promise<MariadbProduct> {
  const product = await productOnMariadb(tx, sku);
  if (!product) throw new DomainError(ErrorCode.UNKNOWN_PRODUCT, `no product ${sku}`);
  return product;
}

/** Runs `change` on a level, inside withLevelLots when the SKU is lot-tracked. */
function onLevel<T>(tx: MariadbTx, product: MariadbProduct, warehouseCode: string, change: () => Promise<T>) {
  return product.lotTracked ? withLevelLots(tx, product.sku, warehouseCode, change) : change();
}

/**
 * Ships: the held units leave the source's on-hand (lots FEFO) and show at once as incoming
 * at the destination, in one transaction.
 */
export async function shipTransferOnMariadb(
  db: Db,
  pool: Pool,
  transferId: string,
  deadlineAt: string,
): Promise<TransferStepOutcome> {
  return step(db, pool, transferId, Operation.TRANSFER_SHIP, TransferStatus.REQUESTED, async (tx, t, serial) => {
    await lockEnds(tx, t);
    const [hold] = await tx.query<{ status: string }[]>('SELECT status FROM reservations WHERE id = ? FOR UPDATE', [
      serial,
    ]);
    if (hold?.status !== 'RESERVED') throw new Error(`transfer ${transferId} is REQUESTED without its hold`);
    const product = await productOf(tx, t.sku);
    const base = { sku: t.sku, warehouseCode: t.from_warehouse, reason: 'TRANSFER_SHIP', reference: serial };
    const lots = await onLevel(tx, product, t.from_warehouse, async () => {
      if (!product.lotTracked) {
        await changeLevel(tx, { ...base, onHandDelta: -t.quantity, reservedDelta: -t.quantity });
        return [];
      }
      const consumed = await pickLotsFefo(tx, t.sku, t.from_warehouse, t.quantity);
      // The lots sum to on-hand and the hold is within on-hand: they never fall short.
      if (consumed.reduce((n, l) => n + l.quantity, 0) !== t.quantity)
        throw new Error(`the lots of ${t.sku} at ${t.from_warehouse} fall short of transfer ${transferId}`);
      for (const lot of consumed) {
        await tx.query(
          `UPDATE stock_lots SET quantity = quantity - ? WHERE sku = ? AND warehouse_code = ? AND lot_code = ?`,
          [lot.quantity, t.sku, t.from_warehouse, lot.lotCode],
        );
        await changeLevel(tx, {
          ...base,
          lotCode: lot.lotCode,
          onHandDelta: -lot.quantity,
          reservedDelta: -lot.quantity,
        });
      }
      return consumed;
    });
    const json = JSON.stringify(lots);
    await tx.query(
      `UPDATE reservations SET status = 'CONFIRMED', consumed_lots = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = ?`,
      [json, serial],
    );
    await changeLevel(tx, {
      sku: t.sku,
      warehouseCode: t.to_warehouse,
      reason: 'TRANSFER_SHIP',
      reference: serial,
      onHandDelta: 0,
      reservedDelta: 0,
      incomingDelta: t.quantity,
    });
    await tx.query(
      `UPDATE transfers SET status = ?, shipped_lots = ?, deadline_at = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = ?`,
      [TransferStatus.SHIPPED, json, new Date(deadlineAt), transferId],
    );
    return { status: 'done', transferStatus: TransferStatus.SHIPPED, lots, deadlineAt };
  });
}

/**
 * Receives at the destination: incoming drops by the shipped quantity, on-hand rises by what
 * arrived (into the same lots, earliest use-by first), and any shortfall is booked as a loss.
 */
export async function receiveTransferOnMariadb(
  db: Db,
  pool: Pool,
  transferId: string,
  receipt: TransferReceipt,
): Promise<TransferStepOutcome> {
  return step(db, pool, transferId, Operation.TRANSFER_RECEIVE, TransferStatus.SHIPPED, async (tx, t, serial) => {
    if (receipt.receivedQuantity > t.quantity) {
      throw new DomainError(
        ErrorCode.VALIDATION_FAILED,
        `received ${receipt.receivedQuantity} of ${t.quantity} shipped`,
      );
    }
    await lockEnds(tx, t);
    // What arrived leaves incoming as it enters on-hand, row by row (lot by lot).
    await arrive(tx, t, t.to_warehouse, receipt.receivedQuantity, 'TRANSFER_RECEIVE', serial, true);
    const shortfall = t.quantity - receipt.receivedQuantity;
    if (shortfall > 0) {
      await changeLevel(tx, {
        sku: t.sku,
        warehouseCode: t.to_warehouse,
        reason: `TRANSFER_LOSS:${receipt.shortfallReason ?? 'unspecified'}`,
        reference: serial,
        onHandDelta: 0,
        reservedDelta: 0,
        incomingDelta: -shortfall,
      });
    }
    await tx.query(
      `UPDATE transfers SET status = ?, received_quantity = ?, shortfall_reason = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = ?`,
      [TransferStatus.RECEIVED, receipt.receivedQuantity, receipt.shortfallReason ?? null, transferId],
    );
    return { status: 'done', transferStatus: TransferStatus.RECEIVED };
  });
}

/**
 * Units arriving at `warehouseCode`: into the shipped lots (lot-tracked, earliest use-by
 * first, their dates kept) or as one row; `fromIncoming`: each part leaves incoming as it
 * enters on-hand (a receipt), else only on-hand rises (a return to the source).
 */
async function arrive(
  tx: MariadbTx,
  t: TransferRow,
  warehouseCode: string,
  quantity: number,
  reason: string,
  reference: string,
  fromIncoming: boolean,
): Promise<void> {
  const product = await productOf(tx, t.sku);
  const part = (take: number, lotCode?: string): MariadbMovement => ({
    sku: t.sku,
    warehouseCode,
    lotCode,
    reason,
    reference,
    onHandDelta: take,
    reservedDelta: 0,
    incomingDelta: fromIncoming ? -take : 0,
  });
  if (!product.lotTracked) {
    if (quantity > 0) await changeLevel(tx, part(quantity));
    return;
  }
  const shipped = (t.shipped_lots ?? []).map((l) => ({ ...l, expiresAt: l.expiresAt ? new Date(l.expiresAt) : null }));
  await withLevelLots(tx, t.sku, warehouseCode, async () => {
    for (const { lot, take } of pickFefo(shipped, quantity)) {
      const expiresAt = lot.expiresAt?.toISOString() ?? null;
      await addToLotOnMariadb(
        tx,
        { sku: t.sku, warehouseCode, lotCode: lot.lotCode, quantity: take, expiresAt },
        product,
        {
          checkExpiry: false,
        },
      );
      await changeLevel(tx, part(take, lot.lotCode));
    }
  });
}

/** Sends a shipment that never arrived back to its source: incoming cleared, on-hand restored. */
export async function returnTransferOnMariadb(db: Db, pool: Pool, transferId: string): Promise<TransferStepOutcome> {
  return step(db, pool, transferId, Operation.TRANSFER_RETURN, TransferStatus.SHIPPED, async (tx, t, serial) => {
    await lockEnds(tx, t);
    await changeLevel(tx, {
      sku: t.sku,
      warehouseCode: t.to_warehouse,
      reason: 'TRANSFER_RETURN',
      reference: serial,
      onHandDelta: 0,
      reservedDelta: 0,
      incomingDelta: -t.quantity,
    });
    await arrive(tx, t, t.from_warehouse, t.quantity, 'TRANSFER_RETURN', serial, false);
    await tx.query(`UPDATE transfers SET status = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = ?`, [
      TransferStatus.RETURNED,
      transferId,
    ]);
    return { status: 'done', transferStatus: TransferStatus.RETURNED };
  });
}

/** Cancels before shipping: the hold at the source is released in the same commit. */
export async function cancelTransferOnMariadb(db: Db, pool: Pool, transferId: string): Promise<TransferStepOutcome> {
  return step(db, pool, transferId, Operation.TRANSFER_CANCEL, TransferStatus.REQUESTED, async (tx, _t, serial) => {
    await releaseInMariadbTx(tx, serial, ReleaseReason.CANCELLED, currentActor());
    await tx.query(`UPDATE transfers SET status = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = ?`, [
      TransferStatus.CANCELLED,
      transferId,
    ]);
    return { status: 'done', transferStatus: TransferStatus.CANCELLED };
  });
}

/** What the overdue alert says about a transfer; throws when there is none (as findUniqueOrThrow). */
export async function overdueTransferOnMariadb(
  pool: Pool,
  transferId: string,
): Promise<{ sku: string; toWarehouse: string; details: object }> {
  const [t] = await pool.query<
    { sku: string; from_warehouse: string; to_warehouse: string; quantity: number; deadline_at: Date | null }[]
  >('SELECT sku, from_warehouse, to_warehouse, quantity, deadline_at FROM transfers WHERE id = ?', [transferId]);
  if (!t) throw new Error(`no transfer ${transferId}`);
  return {
    sku: t.sku,
    toWarehouse: t.to_warehouse,
    details: {
      transferId,
      fromWarehouse: t.from_warehouse,
      quantity: t.quantity,
      deadlineAt: t.deadline_at?.toISOString() ?? null,
    },
  };
}

/** A transfer row as the list maps it (Prisma's Transfer model's fields). */
export interface MariadbTransferRow {
  readonly id: string;
  readonly sku: string;
  readonly fromWarehouse: string;
  readonly toWarehouse: string;
  readonly quantity: number;
  readonly status: string;
  readonly receivedQuantity: number | null;
  readonly shortfallReason: string | null;
  readonly deadlineAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** Up to `take` transfers (optionally at one stage, of one SKU), newest first, after the keyset (created_at, id). */
export async function transferRowsOnMariadb(
  pool: Pool,
  f: { status?: string; sku?: string },
  take: number,
  after?: { createdAt: Date; id: string },
): Promise<MariadbTransferRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  for (const [column, value] of [
    ['status', f.status],
    ['sku', f.sku],
  ] as const) {
    if (value === undefined) continue;
    where.push(`${column} = ?`);
    params.push(value);
  }
  if (after) {
    where.push('(created_at < ? OR (created_at = ? AND id < ?))');
    params.push(after.createdAt, after.createdAt, after.id);
  }
  const rows = await pool.query<
    {
      id: string;
      sku: string;
      from_warehouse: string;
      to_warehouse: string;
      quantity: number;
      status: string;
      received_quantity: number | null;
      shortfall_reason: string | null;
      deadline_at: Date | null;
      created_at: Date;
      updated_at: Date;
    }[]
  >(
    `SELECT id, sku, from_warehouse, to_warehouse, quantity, status, received_quantity, shortfall_reason,
            deadline_at, created_at, updated_at
       FROM transfers ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY created_at DESC, id DESC LIMIT ?`,
    [...params, take],
  );
  return rows.map((r) => ({
    id: r.id,
    sku: r.sku,
    fromWarehouse: r.from_warehouse,
    toWarehouse: r.to_warehouse,
    quantity: r.quantity,
    status: r.status,
    receivedQuantity: r.received_quantity,
    shortfallReason: r.shortfall_reason,
    deadlineAt: r.deadline_at,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}
