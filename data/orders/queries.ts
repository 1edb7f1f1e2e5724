/** Read-side queries on reservations and their lines, used by activities, use cases and the API. */
import type { ReservationView } from '../../domain/reports';
import { compareLines } from '../../domain/lines';
import type { ReservationStatus } from '../../domain/types';
import type { ConsumedLot } from '../../domain/stock';
import type { Db } from '../db';
import { mariadbOf } from '../mariadb/db';
import {
  consumedLotsOnMariadb,
  findExpiredHoldsOnMariadb,
  findReservationOnMariadb,
  firstReservationLineOnMariadb,
} from '../mariadb/orders';

export async function findReservation(db: Db, reservationId: string): Promise<ReservationView | null> {
  const maria = mariadbOf(db);
  if (maria) return findReservationOnMariadb(maria, reservationId);
  const r = await db.reservation.findUnique({
    where: { id: reservationId },
    include: { lines: true },
  });
  if (!r) return null;
  return {
    reservationId: r.id,
    orderId: r.orderId,
    userId: r.userId,
    status: r.status as ReservationStatus,
    paymentId: r.paymentId,
    releaseReason: r.releaseReason,
    expiresAt: r.expiresAt.toISOString(),
    campaignId: r.campaignId,
    amountCents: r.amountCents,
    // Lock order (byte order), not the database collation's: see domain/byte-order.ts.
    lines: r.lines
      .map((l) => ({ sku: l.sku, warehouseCode: l.warehouseCode, quantity: l.quantity }))
      .sort(compareLines),
  };
}

/** Holds still RESERVED more than `graceSeconds` past their expiry, oldest first. */
export async function findExpiredHolds(db: Db, graceSeconds: number, limit: number) {
  const maria = mariadbOf(db);
  if (maria) return findExpiredHoldsOnMariadb(maria, graceSeconds, limit);
  return db.reservation.findMany({
    where: { status: 'RESERVED', expiresAt: { lt: new Date(Date.now() - graceSeconds * 1000) } },
    orderBy: { expiresAt: 'asc' },
    take: limit,
    select: {
      id: true,
      orderId: true,
      expiresAt: true,
      lines: {
        select: { sku: true, warehouseCode: true, quantity: true },
        orderBy: [{ sku: 'asc' }, { warehouseCode: 'asc' }],
      },
    },
  });
}

/** An order's first line (sku, warehouse) in lock order; undefined for an order that holds nothing. */
export async function firstReservationLine(
  db: Db,
  orderId: string,
): Promise<{ sku: string; warehouseCode: string } | undefined> {
  const maria = mariadbOf(db);
  if (maria) return firstReservationLineOnMariadb(maria, orderId);
  const [line] = await db.reservationLine.findMany({
    where: { reservationId: orderId },
    take: 1,
    select: { sku: true, warehouseCode: true },
  });
  return line;
}

/** The lots a confirmed hold was taken from (FEFO), as the confirm recorded them; undefined before a confirm. */
export async function consumedLots(db: Db, orderId: string): Promise<ConsumedLot[] | undefined> {
  const maria = mariadbOf(db);
  if (maria) return consumedLotsOnMariadb(maria, orderId);
  const held = await db.reservation.findUnique({ where: { id: orderId }, select: { consumedLots: true } });
  return (held?.consumedLots as ConsumedLot[] | null) ?? undefined;
}
