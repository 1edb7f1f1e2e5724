/**
 * The skeleton of a campaign order's reserve step: fence checks, then the reservation and
 * fence rows written optimistically, and the contended row (the campaign's pool) taken
 * LAST, so its row lock is held only from the conditional UPDATE to the COMMIT. A refusal
 * rolls back to a savepoint and records the refusal instead.
 */
import { Operation, ReservationStatus, type OrderLine, type ReserveOutcome } from '../../domain/types';
import { requestedAllocation } from '../../domain/allocation';
import { inKeyLockedTx, writeFence, writeMovements, type Db, type Movement, type Tx } from '../db';
import { reserveFences } from '../orders/reserve-fences';
import type { ReserveInput } from '../../domain/types';

export type { ReserveInput } from '../../domain/types';

/** A refusal, computed after the rollback (so it sees the stock as it really is). */
export type Refuse = () => Promise<Exclude<ReserveOutcome, { status: 'reserved' }>>;

export interface HoldPlan {
  /** Merged, lock-ordered lines of the hold. */
  readonly lines: readonly OrderLine[];
  readonly campaignId?: string;
  /** Pre-orders: the ship date shown to the shopper. */
  readonly expectedShipDate?: string;
  /** Ledger rows of the hold (none when the units were already held, as in a campaign). */
  readonly movements: readonly Movement[];
  /** Takes the contended rows; returns a refusal when they cannot be taken. */
  readonly take: (tx: Tx) => Promise<Refuse | undefined>;
}

export async function reserveWith(db: Db, input: ReserveInput, plan: HoldPlan): Promise<ReserveOutcome> {
  const serial = input.reservationId;
  return inKeyLockedTx(db, serial, async (tx) => {
    const prior = await reserveFences(tx, serial);
    if (prior.kind === 'recorded') return prior.outcome;
    if (prior.kind === 'released-first') return record(tx, serial, { status: 'rejected', reason: 'ALREADY_RELEASED' });

    const reserved: ReserveOutcome = {
      status: 'reserved',
      reservationId: serial,
      lines: plan.lines,
      allocations: requestedAllocation(plan.lines),
      expiresAt: new Date(input.expiresAt).toISOString(),
      ...(plan.expectedShipDate ? { expectedShipDate: plan.expectedShipDate } : {}),
    };
    await tx.$executeRaw`SAVEPOINT hold`;
    await insertReservation(tx, input, plan);
    await writeFence(tx, serial, Operation.RESERVE, reserved);
    const refuse = await plan.take(tx);
    if (!refuse) {
      await writeMovements(tx, plan.movements); // after the level changes: rows record before/after
      return reserved;
    }
    await tx.$executeRaw`ROLLBACK TO SAVEPOINT hold`;
    return record(tx, serial, await refuse());
  });
}

async function record(tx: Tx, serial: string, outcome: ReserveOutcome): Promise<ReserveOutcome> {
  await writeFence(tx, serial, Operation.RESERVE, outcome);
  return outcome;
}

async function insertReservation(tx: Tx, input: ReserveInput, plan: HoldPlan): Promise<void> {
  await tx.$executeRaw`
    INSERT INTO reservations (id, order_id, user_id, campaign_id, status, expires_at, amount_cents)
    VALUES (${input.reservationId}, ${input.orderId}, ${input.userId}, ${plan.campaignId ?? null},
            ${ReservationStatus.RESERVED}, ${new Date(input.expiresAt)}, ${input.amountCents ?? null})`;
  await tx.$executeRaw`
    INSERT INTO reservation_lines (reservation_id, sku, warehouse_code, quantity)
    SELECT ${input.reservationId}, * FROM unnest(
      ${plan.lines.map((l) => l.sku)}::text[], ${plan.lines.map((l) => l.warehouseCode)}::text[],
      ${plan.lines.map((l) => l.quantity)}::int[])`;
}
