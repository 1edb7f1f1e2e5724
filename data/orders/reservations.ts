/**
 * The Try step of TCC on PostgreSQL: the reserve (confirm.ts is Confirm, release.ts Cancel).
 *
 * Each step runs in one transaction with its fence row, its ledger rows and its level
 * updates, so a step is either wholly done and recorded, or not done at all; a repeat of a
 * recorded step returns the recorded outcome and changes nothing.
 */
import { planAllocation, requestedAllocation } from '../../domain/allocation';
import { mergeLines } from '../../domain/lines';
import {
  Operation,
  ReservationStatus,
  type AllocationNote,
  type OrderLine,
  type ReserveInput,
  type ReserveOutcome,
  type Shortage,
} from '../../domain/types';
import type { Prisma } from '../../generated/prisma/client';
import { readAvailableBySite, readSites } from '../stock/allocation-reads';
import { currentActor, inKeyLockedTx, skusCommitted, writeFence, writeMovements, type Db, type Tx } from '../db';
import { mariadbOf } from '../mariadb/db';
import { holdOnMariadb } from '../mariadb/reserve';
import { overdrawn } from '../stock/guard';
import { AVAILABLE, BUMP_VERSION } from '../stock/level-sql';
import { reserveFences } from './reserve-fences';

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
  const maria = mariadbOf(db);
  if (maria) {
    // The saga's own reserve: no outbox row (the saga is running), no catalogue 404 (a refusal is recorded).
    const { outcome, replayed } = await holdOnMariadb(maria, {
      serial: input.reservationId,
      orderId: input.orderId,
      userId: input.userId,
      lines: input.lines,
      allocation: input.allocation,
      expiresAt: new Date(input.expiresAt),
      amountCents: input.amountCents,
      actor: currentActor(),
    });
    if (outcome.status === 'reserved' && !replayed)
      await skusCommitted(
        db,
        outcome.lines.map((l) => l.sku),
      );
    return outcome;
  }
  return inKeyLockedTx(db, input.reservationId, (tx) => reserveInTx(tx, input));
}

/** The reserve step inside a caller's transaction (which holds the serial's advisory lock). */
export async function reserveInTx(tx: Tx, input: ReserveInput): Promise<ReserveOutcome> {
  const prior = await reserveFences(tx, input.reservationId);
  if (prior.kind === 'recorded') return prior.outcome;
  if (prior.kind === 'released-first')
    return recordReserve(tx, input.reservationId, { status: 'rejected', reason: 'ALREADY_RELEASED' });
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
      return recordReserve(tx, input.reservationId, {
        status: 'rejected',
        reason: 'INSUFFICIENT_STOCK',
        shortages: plan.shortages,
      });
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

async function createHold(
  tx: Tx,
  input: ReserveInput,
  lines: readonly OrderLine[],
  allocations: readonly AllocationNote[],
) {
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
    lines.map((l) => ({
      sku: l.sku,
      warehouseCode: l.warehouseCode,
      reason: 'RESERVE',
      reference: input.reservationId,
      onHandDelta: 0,
      reservedDelta: l.quantity,
    })),
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

/**
 * Locks the reservation row and returns it with its lines, or undefined. The lines come in
 * lock order, byte order as the reserve took them (domain/byte-order.ts): confirm and
 * release update the level rows in this order, and the database's collation (en-US on
 * hosted PostgreSQL) would give another one.
 */
export async function lockReservation(tx: Tx, reservationId: string) {
  const rows = await tx.$queryRaw<
    { status: ReservationStatus; campaign_id: string | null; user_id: string; amount_cents: number | null }[]
  >`
    SELECT status, campaign_id, user_id, amount_cents FROM reservations WHERE id = ${reservationId} FOR UPDATE`;
  if (rows.length === 0) return undefined;
  const lines = await tx.$queryRaw<OrderLine[]>`
    SELECT sku, warehouse_code AS "warehouseCode", quantity FROM reservation_lines
     WHERE reservation_id = ${reservationId}
     ORDER BY sku COLLATE "C", warehouse_code COLLATE "C"`;
  return {
    status: rows[0].status,
    campaignId: rows[0].campaign_id,
    userId: rows[0].user_id,
    amountCents: rows[0].amount_cents,
    lines,
  };
}
