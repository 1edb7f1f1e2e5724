/**
 * The three TCC steps on PostgreSQL: Try (reserve), Confirm, Cancel (release).
 *
 * Each runs in one transaction with its fence row, its ledger rows and its level updates,
 * so a step is either wholly done and recorded, or not done at all; a repeat of a recorded
 * step returns the recorded outcome and changes nothing.
 */
import { mergeLines } from '../../domain/lines';
import {
  Operation,
  ReservationStatus,
  type ConfirmOutcome,
  type OrderLine,
  type ReleaseOutcome,
  type ReleaseReason,
  type ReserveOutcome,
  type Shortage,
} from '../../domain/types';
import { returnCampaignHold } from './campaigns';
import { inSerialTx, readFence, writeFence, type Db, type Tx } from './db';
import { reserveWith, type ReserveInput } from './hold';
import { deductLevelHolds, releaseLevelHolds } from './levels';
import { confirmPreOrder, lockPreSaleOf } from './pre-sales';

export type { ReserveInput } from './hold';

/**
 * Takes every line or none. Each line is one conditional UPDATE that only matches while
 * enough is available, so two racing orders can never both take the last unit, whatever
 * their interleaving; a refused line rolls back the lines already taken.
 */
export async function reserveStock(db: Db, input: ReserveInput): Promise<ReserveOutcome> {
  const lines = mergeLines(input.lines);
  return reserveWith(db, input, {
    lines,
    movements: lines.map((l) => ({ ...base(l, 'RESERVE', input.reservationId), onHandDelta: 0, reservedDelta: l.quantity })),
    take: async (tx) => {
      const short: OrderLine[] = [];
      for (const line of lines) {
        const taken = await tx.$executeRaw`
          UPDATE inventory_levels
             SET reserved = reserved + ${line.quantity}, version = version + 1, updated_at = now()
           WHERE sku = ${line.sku} AND warehouse_code = ${line.warehouseCode}
             AND on_hand - reserved >= ${line.quantity}`;
        if (taken === 0) short.push(line);
      }
      if (short.length === 0) return undefined;
      return async () => ({ status: 'rejected', reason: 'INSUFFICIENT_STOCK', shortages: await describeShortages(tx, short) });
    },
  });
}

async function describeShortages(tx: Tx, short: readonly OrderLine[]): Promise<Shortage[]> {
  const rows = await tx.$queryRaw<{ sku: string; warehouse_code: string; available: number }[]>`
    SELECT sku, warehouse_code, on_hand - reserved AS available FROM inventory_levels
     WHERE (sku, warehouse_code) IN (SELECT * FROM unnest(
       ${short.map((l) => l.sku)}::text[], ${short.map((l) => l.warehouseCode)}::text[]))`;
  return short.map((l) => ({
    sku: l.sku,
    warehouseCode: l.warehouseCode,
    requested: l.quantity,
    available: rows.find((r) => r.sku === l.sku && r.warehouse_code === l.warehouseCode)?.available ?? 0,
  }));
}

function base(line: OrderLine, reason: string, reference: string) {
  return { sku: line.sku, warehouseCode: line.warehouseCode, reason, reference };
}

/** Locks the reservation row and returns it with its lines, or undefined. */
async function lockReservation(tx: Tx, reservationId: string) {
  const rows = await tx.$queryRaw<{ status: ReservationStatus; campaign_id: string | null; user_id: string }[]>`
    SELECT status, campaign_id, user_id FROM reservations WHERE id = ${reservationId} FOR UPDATE`;
  if (rows.length === 0) return undefined;
  const lines = await tx.reservationLine.findMany({
    where: { reservationId },
    orderBy: [{ sku: 'asc' }, { warehouseCode: 'asc' }],
    select: { sku: true, warehouseCode: true, quantity: true },
  });
  return { status: rows[0].status, campaignId: rows[0].campaign_id, userId: rows[0].user_id, lines };
}

/**
 * Turns a hold into a sale: on-hand and reserved both drop by the held quantity. Recorded
 * once per reservation, so a payment callback retried any number of times deducts once.
 */
export async function confirmStock(db: Db, reservationId: string, paymentId: string): Promise<ConfirmOutcome> {
  return inSerialTx(db, reservationId, async (tx) => {
    const first = await readFence<ConfirmOutcome>(tx, reservationId, Operation.CONFIRM);
    if (first) return first;
    const preSale = await lockPreSaleOf(tx, reservationId);
    const held = await lockReservation(tx, reservationId);
    // Not fenced: the reserve may still be on its way, so a later confirm may succeed.
    if (!held) return { status: 'not_held', reservationStatus: 'MISSING' };
    let outcome: ConfirmOutcome;
    if (held.status === ReservationStatus.RELEASED) {
      outcome = { status: 'not_held', reservationStatus: 'RELEASED' };
    } else if (preSale) {
      outcome = await confirmPreOrder(tx, reservationId, preSale, paymentId, held.lines[0]);
    } else {
      await deductLevelHolds(tx, reservationId, held.lines);
      await tx.reservation.update({
        where: { id: reservationId },
        data: { status: ReservationStatus.CONFIRMED, paymentId, paidAt: new Date(), updatedAt: new Date() },
      });
      outcome = { status: 'confirmed', paymentId };
    }
    await writeFence(tx, reservationId, Operation.CONFIRM, outcome);
    return outcome;
  });
}

/**
 * Gives held stock back. Recorded even when there is nothing to release (the reserve never
 * happened: an "empty rollback"), which is what forbids a late reserve afterwards.
 */
export async function releaseStock(db: Db, reservationId: string, reason: ReleaseReason): Promise<ReleaseOutcome> {
  return inSerialTx(db, reservationId, async (tx) => {
    const first = await readFence<ReleaseOutcome>(tx, reservationId, Operation.RELEASE);
    if (first) return first;
    const held = await lockReservation(tx, reservationId);
    let outcome: ReleaseOutcome;
    if (!held) {
      outcome = { status: 'released_empty' };
    } else if (held.status === ReservationStatus.CONFIRMED || held.status === ReservationStatus.BACKORDERED || held.status === ReservationStatus.REFUND_REQUIRED) {
      // Paid (confirmed, or a pre-order's backorder): payment won the race.
      outcome = { status: 'already_confirmed' };
    } else {
      if (held.campaignId) {
        // A flash-sale hold lives inside the campaign's set-aside: it goes back to the pool.
        for (const line of held.lines) await returnCampaignHold(tx, reservationId, held.campaignId, held.userId, line);
      } else {
        await releaseLevelHolds(tx, reservationId, held.lines);
      }
      await tx.reservation.update({
        where: { id: reservationId },
        data: { status: ReservationStatus.RELEASED, releaseReason: reason, updatedAt: new Date() },
      });
      outcome = { status: 'released', lines: held.lines };
    }
    await writeFence(tx, reservationId, Operation.RELEASE, outcome);
    return outcome;
  });
}
