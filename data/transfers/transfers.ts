/**
 * Transfer steps on PostgreSQL. Each runs in one transaction under the transfer's serial
 * (`transfer:<id>`, also the id of its hold), writes its fence, its ledger rows and its level
 * changes together, and locks the two level rows in (sku, warehouse) order first, so two
 * transfers in opposite directions cannot deadlock.
 */
import { DomainError, ErrorCode } from '../../domain/errors';
import { pickFefo, type ConsumedLot } from '../../domain/stock';
import {
  TransferStatus,
  transferHoldId,
  type TransferReceipt,
  type TransferRequest,
  type TransferRequestOutcome,
  type TransferStepOutcome,
} from '../../domain/transfers';
import { Operation, ReleaseReason, ReservationStatus } from '../../domain/types';
import type { Prisma } from '../../generated/prisma/client';
import { inKeyLockedTx, readFence, writeFence, writeMovements, type Db, type Movement, type Tx } from '../db';
import { AlertKind, raiseAlert } from '../alerts/stock-alerts';
import { deductHeld } from '../orders/confirm';
import { releaseInTx } from '../orders/release';
import { lockReservation, reserveInTx } from '../orders/reservations';
import { addToLot } from '../stock/stock-admin';
import { BUMP_VERSION } from '../stock/level-sql';
import { mariadbOf } from '../mariadb/db';
import {
  cancelTransferOnMariadb,
  overdueTransferOnMariadb,
  receiveTransferOnMariadb,
  requestTransferOnMariadb,
  returnTransferOnMariadb,
  shipTransferOnMariadb,
} from '../mariadb/transfers';

/** A transfer hold ends by shipping or cancelling, never by time: the sweeper must not take it. */
const HOLD_NEVER_EXPIRES = '9999-12-31T00:00:00.000Z';

/** Holds the quantity at the source and records the transfer; a repeat answers the first outcome. */
export async function requestTransfer(db: Db, r: TransferRequest): Promise<TransferRequestOutcome> {
  const maria = mariadbOf(db);
  if (maria) return requestTransferOnMariadb(db, maria, r);
  const serial = transferHoldId(r.transferId);
  return inKeyLockedTx(db, serial, async (tx) => {
    await checkRequest(tx, r);
    const held = await reserveInTx(tx, {
      reservationId: serial,
      orderId: r.transferId,
      userId: 'transfer',
      lines: [{ sku: r.sku, warehouseCode: r.fromWarehouse, quantity: r.quantity }],
      expiresAt: HOLD_NEVER_EXPIRES,
    });
    const { transferId: id, sku, fromWarehouse, toWarehouse, quantity } = r;
    const status = held.status === 'reserved' ? TransferStatus.REQUESTED : TransferStatus.REJECTED;
    await tx.transfer.createMany({
      data: [{ id, sku, fromWarehouse, toWarehouse, quantity, status }],
      skipDuplicates: true,
    });
    if (held.status === 'reserved') return { status: 'requested' };
    return { status: 'rejected', shortages: held.reason === 'INSUFFICIENT_STOCK' ? held.shortages : [] };
  });
}

async function checkRequest(tx: Tx, r: TransferRequest): Promise<void> {
  if (r.fromWarehouse === r.toWarehouse)
    throw new DomainError(ErrorCode.VALIDATION_FAILED, 'a transfer needs two different warehouses');
  if (!(await tx.product.findUnique({ where: { sku: r.sku } })))
    throw new DomainError(ErrorCode.UNKNOWN_PRODUCT, `no product ${r.sku}`);
  const found = await tx.warehouse.count({ where: { code: { in: [r.fromWarehouse, r.toWarehouse] } } });
  if (found < 2)
    throw new DomainError(ErrorCode.UNKNOWN_WAREHOUSE, `no warehouse ${r.fromWarehouse} or ${r.toWarehouse}`);
  const existing = await tx.transfer.findUnique({ where: { id: r.transferId } });
  if (
    existing &&
    (existing.sku !== r.sku ||
      existing.fromWarehouse !== r.fromWarehouse ||
      existing.toWarehouse !== r.toWarehouse ||
      existing.quantity !== r.quantity)
  ) {
    throw new DomainError(ErrorCode.TRANSFER_CONFLICT, `transfer ${r.transferId} exists with other content`);
  }
}

interface TransferRow {
  sku: string;
  from_warehouse: string;
  to_warehouse: string;
  quantity: number;
  status: TransferStatus;
  shipped_lots: ConsumedLot[] | null;
}

/**
 * Runs one step once: the fence returns a recorded outcome; a transfer not in `expected`
 * status is refused (unrecorded: the state, not the request, decided it).
 */
async function step(
  db: Db,
  transferId: string,
  operation: Operation,
  expected: TransferStatus,
  work: (tx: Tx, t: TransferRow, serial: string) => Promise<TransferStepOutcome>,
): Promise<TransferStepOutcome> {
  const serial = transferHoldId(transferId);
  return inKeyLockedTx(db, serial, async (tx) => {
    const first = await readFence<TransferStepOutcome>(tx, serial, operation);
    if (first) return first;
    const rows = await tx.$queryRaw<TransferRow[]>`
      SELECT sku, from_warehouse, to_warehouse, quantity, status, shipped_lots FROM transfers WHERE id = ${transferId} FOR UPDATE`;
    if (rows.length === 0) return { status: 'refused', transferStatus: 'MISSING' };
    if (rows[0].status !== expected) return { status: 'refused', transferStatus: rows[0].status };
    const outcome = await work(tx, rows[0], serial);
    await writeFence(tx, serial, operation, outcome);
    return outcome;
  });
}

/**
 * Locks the transfer's level rows in (sku, warehouse) byte order, the order every
 * multi-row lock uses (domain/byte-order.ts), creating the destination's.
 */
async function lockEnds(tx: Tx, t: TransferRow): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO inventory_levels (sku, warehouse_code) VALUES (${t.sku}, ${t.to_warehouse}) ON CONFLICT DO NOTHING`;
  await tx.$queryRaw`
    SELECT 1 FROM inventory_levels WHERE sku = ${t.sku} AND warehouse_code IN (${t.from_warehouse}, ${t.to_warehouse})
     ORDER BY warehouse_code COLLATE "C" FOR UPDATE`;
}

async function moveIncoming(tx: Tx, sku: string, warehouseCode: string, delta: number, onHandDelta = 0): Promise<void> {
  await tx.$executeRaw`
    UPDATE inventory_levels SET incoming = incoming + ${delta}, on_hand = on_hand + ${onHandDelta},
           ${BUMP_VERSION}
     WHERE sku = ${sku} AND warehouse_code = ${warehouseCode}`;
}

async function setStatus(tx: Tx, id: string, data: Prisma.TransferUpdateInput): Promise<void> {
  await tx.transfer.update({ where: { id }, data: { ...data, updatedAt: new Date() } });
}

/**
 * Ships: the held units leave the source's on-hand (lots FEFO) and show at once as incoming
 * at the destination, in one transaction.
 */
export async function shipTransfer(db: Db, transferId: string, deadlineAt: string): Promise<TransferStepOutcome> {
  const maria = mariadbOf(db);
  if (maria) return shipTransferOnMariadb(db, maria, transferId, deadlineAt);
  return step(db, transferId, Operation.TRANSFER_SHIP, TransferStatus.REQUESTED, async (tx, t, serial) => {
    await lockEnds(tx, t);
    const held = await lockReservation(tx, serial);
    const lots = await deductHeld(tx, serial, held!.lines, 'TRANSFER_SHIP');
    const json = lots as unknown as Prisma.InputJsonValue;
    await tx.reservation.update({
      where: { id: serial },
      data: { status: ReservationStatus.CONFIRMED, consumedLots: json, updatedAt: new Date() },
    });
    await moveIncoming(tx, t.sku, t.to_warehouse, t.quantity);
    await writeMovements(tx, [
      {
        sku: t.sku,
        warehouseCode: t.to_warehouse,
        reason: 'TRANSFER_SHIP',
        reference: serial,
        onHandDelta: 0,
        reservedDelta: 0,
        incomingDelta: t.quantity,
      },
    ]);
    await setStatus(tx, transferId, {
      status: TransferStatus.SHIPPED,
      shippedLots: json,
      deadlineAt: new Date(deadlineAt),
    });
    return { status: 'done', transferStatus: TransferStatus.SHIPPED, lots, deadlineAt };
  });
}

/**
 * Receives at the destination: incoming drops by the shipped quantity, on-hand rises by what
 * arrived (into the same lots, earliest use-by first), and any shortfall is booked as a loss.
 */
export async function receiveTransfer(
  db: Db,
  transferId: string,
  receipt: TransferReceipt,
): Promise<TransferStepOutcome> {
  const maria = mariadbOf(db);
  if (maria) return receiveTransferOnMariadb(db, maria, transferId, receipt);
  return step(db, transferId, Operation.TRANSFER_RECEIVE, TransferStatus.SHIPPED, async (tx, t, serial) => {
    if (receipt.receivedQuantity > t.quantity) {
      throw new DomainError(
        ErrorCode.VALIDATION_FAILED,
        `received ${receipt.receivedQuantity} of ${t.quantity} shipped`,
      );
    }
    await lockEnds(tx, t);
    await moveIncoming(tx, t.sku, t.to_warehouse, -t.quantity, receipt.receivedQuantity);
    // What arrived leaves incoming as it enters on-hand, row by row (lot by lot).
    const arrived = await arriveInLots(tx, t, t.to_warehouse, receipt.receivedQuantity, 'TRANSFER_RECEIVE', serial);
    const movements: Movement[] = arrived.map((m) => ({ ...m, incomingDelta: -m.onHandDelta }));
    const shortfall = t.quantity - receipt.receivedQuantity;
    if (shortfall > 0) {
      const reason = `TRANSFER_LOSS:${receipt.shortfallReason ?? 'unspecified'}`;
      movements.push({
        sku: t.sku,
        warehouseCode: t.to_warehouse,
        reason,
        reference: serial,
        onHandDelta: 0,
        reservedDelta: 0,
        incomingDelta: -shortfall,
      });
    }
    await writeMovements(tx, movements);
    await setStatus(tx, transferId, {
      status: TransferStatus.RECEIVED,
      receivedQuantity: receipt.receivedQuantity,
      shortfallReason: receipt.shortfallReason ?? null,
    });
    return { status: 'done', transferStatus: TransferStatus.RECEIVED };
  });
}

/** Units arriving at `warehouseCode`: into the shipped lots (lot-tracked) or as one row. */
async function arriveInLots(
  tx: Tx,
  t: TransferRow,
  warehouseCode: string,
  quantity: number,
  reason: string,
  reference: string,
): Promise<Movement[]> {
  const product = await tx.product.findUniqueOrThrow({ where: { sku: t.sku } });
  if (!product.lotTracked)
    return quantity > 0
      ? [{ sku: t.sku, warehouseCode, reason, reference, onHandDelta: quantity, reservedDelta: 0 }]
      : [];
  const shipped = (t.shipped_lots ?? []).map((l) => ({ ...l, expiresAt: l.expiresAt ? new Date(l.expiresAt) : null }));
  const movements: Movement[] = [];
  for (const { lot, take } of pickFefo(shipped, quantity)) {
    const expiresAt = lot.expiresAt?.toISOString() ?? null;
    await addToLot(tx, { sku: t.sku, warehouseCode, lotCode: lot.lotCode, quantity: take, expiresAt }, product, {
      checkExpiry: false,
    });
    movements.push({
      sku: t.sku,
      warehouseCode,
      lotCode: lot.lotCode,
      reason,
      reference,
      onHandDelta: take,
      reservedDelta: 0,
    });
  }
  return movements;
}

/** Sends a shipment that never arrived back to its source: incoming cleared, on-hand restored. */
export async function returnTransfer(db: Db, transferId: string): Promise<TransferStepOutcome> {
  const maria = mariadbOf(db);
  if (maria) return returnTransferOnMariadb(db, maria, transferId);
  return step(db, transferId, Operation.TRANSFER_RETURN, TransferStatus.SHIPPED, async (tx, t, serial) => {
    await lockEnds(tx, t);
    await moveIncoming(tx, t.sku, t.to_warehouse, -t.quantity);
    await moveIncoming(tx, t.sku, t.from_warehouse, 0, t.quantity);
    const back = await arriveInLots(tx, t, t.from_warehouse, t.quantity, 'TRANSFER_RETURN', serial);
    const cleared: Movement = {
      sku: t.sku,
      warehouseCode: t.to_warehouse,
      reason: 'TRANSFER_RETURN',
      reference: serial,
      onHandDelta: 0,
      reservedDelta: 0,
      incomingDelta: -t.quantity,
    };
    await writeMovements(tx, [cleared, ...back]);
    await setStatus(tx, transferId, { status: TransferStatus.RETURNED });
    return { status: 'done', transferStatus: TransferStatus.RETURNED };
  });
}

/** Cancels before shipping: the hold at the source is released. */
export async function cancelTransfer(db: Db, transferId: string): Promise<TransferStepOutcome> {
  const maria = mariadbOf(db);
  if (maria) return cancelTransferOnMariadb(db, maria, transferId);
  return step(db, transferId, Operation.TRANSFER_CANCEL, TransferStatus.REQUESTED, async (tx, _t, serial) => {
    await releaseInTx(tx, serial, ReleaseReason.CANCELLED);
    await setStatus(tx, transferId, { status: TransferStatus.CANCELLED });
    return { status: 'done', transferStatus: TransferStatus.CANCELLED };
  });
}

/** A shipment past its deadline: one TRANSFER_OVERDUE alert, ever, for the destination. */
export async function raiseTransferOverdue(db: Db, transferId: string): Promise<void> {
  const maria = mariadbOf(db);
  if (maria) {
    const o = await overdueTransferOnMariadb(maria, transferId);
    await raiseAlert(db, {
      kind: AlertKind.TRANSFER_OVERDUE,
      subject: transferHoldId(transferId),
      sku: o.sku,
      warehouseCode: o.toWarehouse,
      details: o.details,
    });
    return;
  }
  const t = await db.transfer.findUniqueOrThrow({ where: { id: transferId } });
  await raiseAlert(db, {
    kind: AlertKind.TRANSFER_OVERDUE,
    subject: transferHoldId(transferId),
    sku: t.sku,
    warehouseCode: t.toWarehouse,
    details: {
      transferId,
      fromWarehouse: t.fromWarehouse,
      quantity: t.quantity,
      deadlineAt: t.deadlineAt?.toISOString() ?? null,
    },
  });
}
