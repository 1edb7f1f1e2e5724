/**
 * The three TCC steps on PostgreSQL: Try (reserve), Confirm, Cancel (release).
 *
 * Each runs in one transaction with its fence row, its ledger rows and its level updates,
 * so a step is either wholly done and recorded, or not done at all; a repeat of a recorded
 * step returns the recorded outcome and changes nothing.
 */
import { planAllocation, requestedAllocation } from '../../domain/allocation';
import { mergeLines } from '../../domain/lines';
import { settlementOf, type OrderPayment, type Settlement } from '../../domain/payments';
import type { ConsumedLot } from '../../domain/stock';
import {
  Operation,
  ReservationStatus,
  type AllocationNote,
  type ConfirmOutcome,
  type OrderLine,
  type ReleaseOutcome,
  type ReleaseReason,
  type ReserveInput,
  type ReserveOutcome,
  type Shortage,
} from '../../domain/types';
import type { Prisma } from '../../generated/prisma/client';
import { readAvailableBySite, readSites } from './availability';
import { returnCampaignHold } from './campaigns';
import { inKeyLockedTx, readFence, readFences, writeFence, writeMovements, type Db, type Movement, type Tx } from './db';
import { overdrawn } from './guard';
import { releaseLevelHolds } from './levels';
import { confirmPreOrder, lockPreSaleOf } from './pre-sales';
import { consumeLots, lotTrackedSkus } from './fefo';
import { settlePaymentTx } from './payments';
import { AVAILABLE, BUMP_VERSION } from './level-sql';

/**
 * How often the reserve re-plans when stock moved between its read and its conditional
 * updates. Each attempt reads fresh availability, so a later plan avoids the warehouse that
 * ran out; after the last one the order is refused as a whole.
 */
const PLAN_ATTEMPTS = 3;

/**
 * Takes every line or none, in one transaction. Allocation places lines without a
 * warehouse; each planned line is then one conditional UPDATE that only matches while
 * enough is available, so two racing orders can never both take the last unit, whatever
 * their interleaving. A refused line rolls back the lines already taken (savepoint) and the
 * next plan is tried on fresh numbers.
 */
export async function reserveStock(db: Db, input: ReserveInput): Promise<ReserveOutcome> {
  return inKeyLockedTx(db, input.reservationId, (tx) => reserveInTx(tx, input));
}

/** The reserve step inside a caller's transaction (which holds the serial's advisory lock). */
export async function reserveInTx(tx: Tx, input: ReserveInput): Promise<ReserveOutcome> {
  const fences = await readFences<ReserveOutcome>(tx, input.reservationId, [Operation.RESERVE, Operation.RELEASE]);
  const first = fences.get(Operation.RESERVE);
  if (first) return first;
  // A release recorded first (cancel or timeout overtook a slow reserve) forbids the hold:
  // taking it now would leave a "hanging" hold nobody will ever release.
  if (fences.has(Operation.RELEASE)) {
    return recordReserve(tx, input.reservationId, { status: 'rejected', reason: 'ALREADY_RELEASED' });
  }
  // Every line names its warehouse: nothing to plan, the conditional updates decide.
  if (input.lines.every((l): l is OrderLine => l.warehouseCode !== undefined)) {
    const lines = mergeLines(input.lines);
    const short = await takeLines(tx, lines);
    if (short.length === 0) return createHold(tx, input, lines, requestedAllocation(lines));
    const shortages = await describeShortages(tx, short);
    return recordReserve(tx, input.reservationId, { status: 'rejected', reason: 'INSUFFICIENT_STOCK', shortages });
  }
  const [sites, skus] = [await readSites(tx), [...new Set(input.lines.map((l) => l.sku))]];
  let short: OrderLine[] = [];
  for (let attempt = 1; attempt <= PLAN_ATTEMPTS; attempt++) {
    const plan = planAllocation(input.lines, input.allocation ?? {}, sites, await readAvailableBySite(tx, skus));
    if (plan.status === 'short') {
      return recordReserve(tx, input.reservationId, { status: 'rejected', reason: 'INSUFFICIENT_STOCK', shortages: plan.shortages });
    }
    short = await takeLines(tx, plan.lines);
    if (short.length === 0) return createHold(tx, input, plan.lines, plan.notes);
  }
  const shortages = await describeShortages(tx, short);
  return recordReserve(tx, input.reservationId, { status: 'rejected', reason: 'INSUFFICIENT_STOCK', shortages });
}

/**
 * Holds every line (in lock order) or, when one is short, none: returns the short ones. A
 * line the conditional UPDATE took on a stale view of the lots is short too (see guard.ts).
 */
async function takeLines(tx: Tx, lines: readonly OrderLine[]): Promise<OrderLine[]> {
  await tx.$executeRaw`SAVEPOINT take_lines`;
  const merged = mergeLines(lines);
  const short: OrderLine[] = [];
  for (const line of merged) {
    const taken = await tx.$executeRaw`
      UPDATE inventory_levels
         SET reserved = reserved + ${line.quantity}, ${BUMP_VERSION}
       WHERE sku = ${line.sku} AND warehouse_code = ${line.warehouseCode}
         AND ${AVAILABLE} >= ${line.quantity}`;
    if (taken === 0) short.push(line);
  }
  if (short.length === 0) short.push(...(await overdrawn(tx, merged)));
  if (short.length > 0) await tx.$executeRaw`ROLLBACK TO SAVEPOINT take_lines`;
  return short;
}

async function createHold(tx: Tx, input: ReserveInput, lines: readonly OrderLine[], allocations: readonly AllocationNote[]) {
  await tx.reservation.create({
    data: {
      id: input.reservationId,
      orderId: input.orderId,
      userId: input.userId,
      status: ReservationStatus.RESERVED,
      expiresAt: new Date(input.expiresAt),
      amountCents: input.amountCents ?? null,
      allocation: allocations as unknown as Prisma.InputJsonValue,
      lines: { createMany: { data: lines.map((l) => ({ ...l })) } },
    },
  });
  await writeMovements(
    tx,
    lines.map((l) => ({ ...base(l, 'RESERVE', input.reservationId), onHandDelta: 0, reservedDelta: l.quantity })),
  );
  return recordReserve(tx, input.reservationId, {
    status: 'reserved',
    reservationId: input.reservationId,
    lines: [...lines],
    allocations: [...allocations],
    expiresAt: new Date(input.expiresAt).toISOString(),
  });
}

async function recordReserve(tx: Tx, serial: string, outcome: ReserveOutcome): Promise<ReserveOutcome> {
  await writeFence(tx, serial, Operation.RESERVE, outcome);
  return outcome;
}

async function describeShortages(tx: Tx, short: readonly OrderLine[]): Promise<Shortage[]> {
  const rows = await tx.$queryRaw<{ sku: string; warehouse_code: string; available: number }[]>`
    SELECT sku, warehouse_code,
           GREATEST(0, ${AVAILABLE}) AS available
      FROM inventory_levels
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

/**
 * Locks the reservation row and returns it with its lines, or undefined. The lines come in
 * lock order, byte order as the reserve took them (domain/byte-order.ts): confirm and
 * release update the level rows in this order, and the database's collation (en-US on
 * hosted PostgreSQL) would give another one.
 */
export async function lockReservation(tx: Tx, reservationId: string) {
  const rows = await tx.$queryRaw<{ status: ReservationStatus; campaign_id: string | null; user_id: string; amount_cents: number | null }[]>`
    SELECT status, campaign_id, user_id, amount_cents FROM reservations WHERE id = ${reservationId} FOR UPDATE`;
  if (rows.length === 0) return undefined;
  const lines = await tx.$queryRaw<OrderLine[]>`
    SELECT sku, warehouse_code AS "warehouseCode", quantity FROM reservation_lines
     WHERE reservation_id = ${reservationId}
     ORDER BY sku COLLATE "C", warehouse_code COLLATE "C"`;
  return { status: rows[0].status, campaignId: rows[0].campaign_id, userId: rows[0].user_id, amountCents: rows[0].amount_cents, lines };
}

/**
 * Turns a hold into a sale: on-hand and reserved both drop by the held quantity. Recorded
 * once per reservation, so a payment callback retried any number of times deducts once.
 */
export async function confirmStock(db: Db, reservationId: string, paymentId: string): Promise<ConfirmOutcome> {
  return inKeyLockedTx(db, reservationId, (tx) => confirmInTx(tx, reservationId, paymentId, undefined));
}

/**
 * The saga's confirm: confirms the hold with this payment and settles the payment in the
 * same transaction. Returns the payment's settlement as stored (a settled payment keeps its
 * first settlement), or undefined when the hold is not there and the payment stays PENDING
 * for the late-payment path. An order that carries an amount refuses a payment of another.
 */
export async function confirmPayment(db: Db, reservationId: string, paid: OrderPayment): Promise<Settlement | undefined> {
  return inKeyLockedTx(db, reservationId, async (tx) => {
    let stored: Settlement | undefined;
    await confirmInTx(tx, reservationId, paid.paymentId, paid.amountCents, async (outcome) => {
      const settlement = settlementOf(outcome, paid.paymentId, reservationId);
      stored = settlement && (await settlePaymentTx(tx, paid, settlement));
    });
    return stored;
  });
}

/**
 * `recorded` runs once the outcome is known and fenced, before the stock rows are touched:
 * the level rows, the hottest of the step, are locked for their updates and ledger rows only.
 */
async function confirmInTx(
  tx: Tx,
  reservationId: string,
  paymentId: string,
  amountCents: number | undefined,
  recorded: (outcome: ConfirmOutcome) => Promise<void> = async () => undefined,
): Promise<ConfirmOutcome> {
  const done = async (outcome: ConfirmOutcome, fence: boolean) => {
    if (fence) await writeFence(tx, reservationId, Operation.CONFIRM, outcome);
    await recorded(outcome);
    return outcome;
  };
  const first = await readFence<ConfirmOutcome>(tx, reservationId, Operation.CONFIRM);
  if (first) return done(first, false);
  const preSale = await lockPreSaleOf(tx, reservationId);
  const held = await lockReservation(tx, reservationId);
  // Not fenced: the reserve may still be on its way, so a later confirm may succeed.
  if (!held) return done({ status: 'not_held', reservationStatus: 'MISSING' }, false);
  // Not fenced either: the order may still be paid with the right amount.
  if (held.amountCents !== null && amountCents !== undefined && amountCents !== held.amountCents) {
    return done({ status: 'amount_mismatch', paidCents: amountCents, expectedCents: held.amountCents }, false);
  }
  if (held.status === ReservationStatus.RELEASED) return done({ status: 'not_held', reservationStatus: 'RELEASED' }, true);
  if (preSale) return done(await confirmPreOrder(tx, reservationId, preSale, paymentId, held.lines[0]), true);
  await tx.$executeRaw`
    UPDATE reservations SET status = ${ReservationStatus.CONFIRMED}, payment_id = ${paymentId}, paid_at = now(), updated_at = now()
     WHERE id = ${reservationId}`;
  const outcome = await done({ status: 'confirmed', paymentId }, true);
  const consumedLots = await deductHeld(tx, reservationId, held.lines);
  if (consumedLots.length > 0) {
    await tx.$executeRaw`UPDATE reservations SET consumed_lots = ${JSON.stringify(consumedLots)}::jsonb WHERE id = ${reservationId}`;
  }
  return outcome;
}

/**
 * Drops on-hand and reserved by each held line (level rows in lock order, then their lots)
 * and writes the ledger: one row per line, or per lot consumed FEFO for lot-tracked SKUs.
 * Used by confirm (a sale) and by a transfer's shipment (stock leaving its source).
 */
export async function deductHeld(tx: Tx, reservationId: string, lines: readonly OrderLine[], reason = 'CONFIRM'): Promise<ConsumedLot[]> {
  const tracked = await lotTrackedSkus(tx, lines.map((l) => l.sku));
  const consumed: ConsumedLot[] = [];
  const movements: Movement[] = [];
  for (const line of lines) {
    await tx.$executeRaw`
      UPDATE inventory_levels
         SET on_hand = on_hand - ${line.quantity}, reserved = reserved - ${line.quantity},
             ${BUMP_VERSION}
       WHERE sku = ${line.sku} AND warehouse_code = ${line.warehouseCode}`;
    if (tracked.has(line.sku)) {
      const taken = await consumeLots(tx, line, reservationId, reason);
      consumed.push(...taken.consumed);
      movements.push(...taken.movements);
    } else {
      movements.push({ ...base(line, reason, reservationId), onHandDelta: -line.quantity, reservedDelta: -line.quantity });
    }
  }
  await writeMovements(tx, movements);
  return consumed;
}

/**
 * Gives held stock back. Recorded even when there is nothing to release (the reserve never
 * happened: an "empty rollback"), which is what forbids a late reserve afterwards.
 */
export async function releaseStock(db: Db, reservationId: string, reason: ReleaseReason): Promise<ReleaseOutcome> {
  const outcome = await inKeyLockedTx(db, reservationId, (tx) => releaseInTx(tx, reservationId, reason));
  // Stamped after the commit: when the release happened, whatever it waited for before. (A
  // repeat whose first answer was lost is stamped at the repeat, just after the real commit.)
  return outcome.status === 'released' ? { ...outcome, releasedAt: new Date().toISOString() } : outcome;
}

/** The release step inside a caller's transaction (which holds the serial's advisory lock). */
export async function releaseInTx(tx: Tx, reservationId: string, reason: ReleaseReason): Promise<ReleaseOutcome> {
  const first = await readFence<ReleaseOutcome>(tx, reservationId, Operation.RELEASE);
  if (first) return first;
  const held = await lockReservation(tx, reservationId);
  const record = async (outcome: ReleaseOutcome) => {
    await writeFence(tx, reservationId, Operation.RELEASE, outcome);
    return outcome;
  };
  if (!held) return record({ status: 'released_empty' });
  // Paid (confirmed, or a pre-order's backorder): payment won the race.
  if (held.status !== ReservationStatus.RESERVED) return record({ status: 'already_confirmed' });
  await tx.$executeRaw`
    UPDATE reservations SET status = ${ReservationStatus.RELEASED}, release_reason = ${reason}, updated_at = now() WHERE id = ${reservationId}`;
  const outcome = await record({ status: 'released', lines: held.lines });
  // The hot rows last (a campaign's pool, or the levels): locked for their updates only.
  if (held.campaignId) {
    // A campaign hold lives inside the campaign's pool: it goes back there.
    for (const line of held.lines) await returnCampaignHold(tx, reservationId, held.campaignId, held.userId, line);
  } else {
    await releaseLevelHolds(tx, reservationId, held.lines);
  }
  return outcome;
}
