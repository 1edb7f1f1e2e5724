/**
 * The Confirm step of TCC: a hold becomes a sale (on-hand and reserved both drop), fenced
 * once per reservation, with the payment's settlement in the same transaction.
 */
import { settlementOf, type OrderPayment, type Settlement } from '../../domain/payments';
import type { ConsumedLot } from '../../domain/stock';
import { Operation, ReservationStatus, type ConfirmOutcome, type OrderLine } from '../../domain/types';
import { inKeyLockedTx, readFence, writeFence, writeMovements, type Db, type Movement, type Tx } from '../db';
import { consumeLots, lotTrackedSkus } from '../stock/fefo';
import { BUMP_VERSION } from '../stock/level-sql';
import { settlePaymentTx } from '../payments/payments';
import { confirmPreOrder, lockPreSaleOf } from '../campaigns/pre-sales';
import { lockReservation } from './reservations';
import { mariadbOf } from '../mariadb/db';
import { confirmPaymentOnMariadb, confirmStockOnMariadb } from '../mariadb/confirm-payment';

/**
 * Turns a hold into a sale: on-hand and reserved both drop by the held quantity. Recorded
 * once per reservation, so a payment callback retried any number of times deducts once.
 */
export async function confirmStock(db: Db, reservationId: string, paymentId: string): Promise<ConfirmOutcome> {
  const maria = mariadbOf(db);
  if (maria) return confirmStockOnMariadb(maria, reservationId, paymentId);
  return inKeyLockedTx(db, reservationId, (tx) => confirmInTx(tx, reservationId, paymentId, undefined));
}

/**
 * The saga's confirm: confirms the hold with this payment and settles the payment in the
 * same transaction. Returns the payment's settlement as stored (a settled payment keeps its
 * first settlement), or undefined when the hold is not there and the payment stays PENDING
 * for the late-payment path. An order that carries an amount refuses a payment of another.
 */
export async function confirmPayment(
  db: Db,
  reservationId: string,
  paid: OrderPayment,
): Promise<Settlement | undefined> {
  const maria = mariadbOf(db);
  if (maria) return confirmPaymentOnMariadb(maria, reservationId, paid);
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
  if (held.status === ReservationStatus.RELEASED)
    return done({ status: 'not_held', reservationStatus: 'RELEASED' }, true);
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
export async function deductHeld(
  tx: Tx,
  reservationId: string,
  lines: readonly OrderLine[],
  reason = 'CONFIRM',
): Promise<ConsumedLot[]> {
  const tracked = await lotTrackedSkus(
    tx,
    lines.map((l) => l.sku),
  );
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
      movements.push({
        sku: line.sku,
        warehouseCode: line.warehouseCode,
        reason,
        reference: reservationId,
        onHandDelta: -line.quantity,
        reservedDelta: -line.quantity,
      });
    }
  }
  await writeMovements(tx, movements);
  return consumed;
}
