/**
 * The saga's confirm on MySQL/MariaDB (issue 22): the contract of data/orders/confirm.ts
 * `confirmPayment` for InnoDB. The hold becomes a sale and the payment is settled in one READ
 * COMMITTED transaction under the reservation's serial slot, fenced once per reservation: a
 * payment callback retried any number of times deducts once, and a confirm replayed answers
 * its first outcome (a second payment then reads as a duplicate charge).
 *
 * As PostgreSQL's: no hold → not fenced (the reserve may be on its way); a payment of another
 * amount than the order's → AMOUNT_MISMATCH, not fenced (the order may still be paid right); a
 * released hold → fenced `not_held` (the payment goes on to the late-payment path). The fence
 * and the settlement are written before the level rows, the hottest of the step, are locked.
 * A pre-order becomes a backorder, or, once its pre-sale is fulfilled, is allocated on the spot
 * out of what the pre-sale's goods still cover (pre-sales.ts). Lot-tracked SKUs leave their
 * lots first-expiring-first (`deduct`).
 */
import type { Pool } from 'mariadb';
import { settlementOf, type OrderPayment, type Settlement } from '../../domain/payments';
import { campaignSerial, Operation, ReservationStatus, type ConfirmOutcome, type OrderLine } from '../../domain/types';
import type { ConsumedLot } from '../../domain/stock';
import { pickLotsFefo, withLevelLots } from './lots';
import { writeMovement } from './holds';
import { currentActor } from '../db';
import { settlePaymentInMariadbTx } from './payments';
import { confirmPreOrderOnMariadb, preSaleOfOnMariadb } from './pre-sales';
import { inMariadbTx, lockSerial, readMariadbFence, writeMariadbFence, type MariadbTx } from './tx';

/** Confirms the hold with this payment and settles the payment; undefined when the hold is not there (it stays PENDING). */
export async function confirmPaymentOnMariadb(
  pool: Pool,
  reservationId: string,
  paid: OrderPayment,
): Promise<Settlement | undefined> {
  return confirmOnce(pool, reservationId, paid.paymentId, paid.amountCents, async (tx, outcome) => {
    const settlement = settlementOf(outcome, paid.paymentId, reservationId);
    return settlement && settlePaymentInMariadbTx(tx, paid, settlement);
  });
}

/**
 * data/orders/confirm.ts `confirmStock` on MariaDB: the hold becomes a sale, fenced once per
 * reservation, with no payment row to settle and no amount to check (the operator's and the
 * fixtures' confirm). The same step as the saga's: pre-orders, lots first-expiring-first.
 */
export async function confirmStockOnMariadb(
  pool: Pool,
  reservationId: string,
  paymentId: string,
): Promise<ConfirmOutcome> {
  return confirmOnce(pool, reservationId, paymentId, undefined, async (_tx, outcome) => outcome);
}

/**
 * The confirm step in one READ COMMITTED transaction under the reservation's slot (and a
 * pre-order's pre-sale slot first): the outcome decided (or its first one read), `then` given
 * it (the payment's settlement), and the held lines deducted on a first confirm.
 */
async function confirmOnce<T>(
  pool: Pool,
  reservationId: string,
  paymentId: string,
  amountCents: number | undefined,
  then: (tx: MariadbTx, outcome: ConfirmOutcome) => Promise<T>,
): Promise<T> {
  return inMariadbTx(pool, async (tx) => {
    await lockSerial(tx, reservationId);
    // A pre-order: the pre-sale's slot before the reservation row, the fulfilment's order.
    const preSale = await preSaleOfOnMariadb(tx, reservationId);
    if (preSale) await lockSerial(tx, campaignSerial(preSale));
    const { outcome, deductLines } = await confirmInMariadbTx(tx, reservationId, paymentId, amountCents);
    const answer = await then(tx, outcome);
    if (deductLines) await deduct(tx, reservationId, deductLines);
    return answer;
  });
}

/** A held line, and whether its product's stock is kept in lots. */
type HeldLine = OrderLine & { readonly lotTracked: boolean };

/** A confirm's outcome, and the lines a first confirm must still deduct (none when replayed or refused). */
interface Decided {
  readonly outcome: ConfirmOutcome;
  readonly deductLines?: readonly HeldLine[];
}

/** The outcome (recorded first, or decided and fenced now); the caller holds the serial's slot. */
async function confirmInMariadbTx(
  tx: MariadbTx,
  reservationId: string,
  paymentId: string,
  amountCents: number | undefined,
): Promise<Decided> {
  const first = await readMariadbFence<ConfirmOutcome>(tx, reservationId, Operation.CONFIRM);
  if (first) return { outcome: first };
  const [held] = await tx.query<
    { status: string; amount_cents: number | null; kind: string | null; campaign_id: string | null }[]
  >(
    `SELECT r.status, r.amount_cents, c.kind, r.campaign_id FROM reservations r LEFT JOIN campaigns c ON c.id = r.campaign_id
      WHERE r.id = ? FOR UPDATE`,
    [reservationId],
  );
  if (!held) return { outcome: { status: 'not_held', reservationStatus: 'MISSING' } };
  if (held.amount_cents !== null && amountCents !== undefined && amountCents !== held.amount_cents)
    return { outcome: { status: 'amount_mismatch', paidCents: amountCents, expectedCents: held.amount_cents } };
  const fence = async (outcome: ConfirmOutcome): Promise<ConfirmOutcome> => {
    await writeMariadbFence(tx, reservationId, Operation.CONFIRM, outcome);
    return outcome;
  };
  if (held.status === ReservationStatus.RELEASED)
    return { outcome: await fence({ status: 'not_held', reservationStatus: 'RELEASED' }) };
  if (held.kind === 'PRE_SALE')
    return { outcome: await fence(await confirmPreOrderOnMariadb(tx, reservationId, held.campaign_id!, paymentId)) };
  const lines = await tx.query<(OrderLine & { lotTracked: number })[]>(
    `SELECT l.sku, l.warehouse_code AS warehouseCode, l.quantity, p.lot_tracked AS lotTracked
       FROM reservation_lines l JOIN products p ON p.sku = l.sku
      WHERE l.reservation_id = ? ORDER BY l.sku, l.warehouse_code`,
    [reservationId],
  );
  await tx.query(
    `UPDATE reservations SET status = 'CONFIRMED', payment_id = ?, paid_at = UTC_TIMESTAMP(3), updated_at = UTC_TIMESTAMP(3)
      WHERE id = ?`,
    [paymentId, reservationId],
  );
  return {
    outcome: await fence({ status: 'confirmed', paymentId }),
    deductLines: lines.map((l) => ({
      sku: l.sku,
      warehouseCode: l.warehouseCode,
      quantity: l.quantity,
      lotTracked: Boolean(l.lotTracked),
    })),
  };
}

/**
 * On hand and reserved both drop by each held line (levels in byte order), with their ledger
 * rows and cache invalidations. A lot-tracked line leaves its lots first-expiring-first
 * (`pickLotsFefo`, as PostgreSQL's consumeLots) under its level's lock, one ledger row per lot,
 * and the lots must still sum to on hand at the end (`withLevelLots`); what it took is kept on
 * the reservation (`consumed_lots`: returns put units back into the lots they were sold from).
 */
async function deduct(tx: MariadbTx, reservationId: string, lines: readonly HeldLine[]): Promise<void> {
  const actor = currentActor();
  const consumed: ConsumedLot[] = [];
  const level = (line: OrderLine, quantity: number) =>
    tx.query(
      `UPDATE inventory_levels SET on_hand = on_hand - ?, reserved = reserved - ?, version = version + 1, updated_at = UTC_TIMESTAMP(3)
        WHERE sku = ? AND warehouse_code = ?`,
      [quantity, quantity, line.sku, line.warehouseCode],
    );
  for (const line of lines) {
    if (!line.lotTracked) {
      await level(line, line.quantity);
      await writeMovement(tx, reservationId, 'CONFIRM', line, -line.quantity, -line.quantity, actor);
      continue;
    }
    await withLevelLots(tx, line.sku, line.warehouseCode, async () => {
      const lots = await pickLotsFefo(tx, line.sku, line.warehouseCode, line.quantity);
      // The hold is within on hand and the lots sum to it: they never fall short.
      if (lots.reduce((n, l) => n + l.quantity, 0) !== line.quantity)
        throw new Error(`the lots of ${line.sku} at ${line.warehouseCode} fall short of ${reservationId}`);
      for (const lot of lots) {
        await tx.query(
          'UPDATE stock_lots SET quantity = quantity - ? WHERE sku = ? AND warehouse_code = ? AND lot_code = ?',
          [lot.quantity, line.sku, line.warehouseCode, lot.lotCode],
        );
        await level(line, lot.quantity);
        await writeMovement(
          tx,
          reservationId,
          'CONFIRM',
          { ...line, lotCode: lot.lotCode },
          -lot.quantity,
          -lot.quantity,
          actor,
        );
      }
      consumed.push(...lots);
    });
  }
  if (consumed.length > 0)
    await tx.query('UPDATE reservations SET consumed_lots = ? WHERE id = ?', [JSON.stringify(consumed), reservationId]);
  await tx.batch(
    'INSERT INTO cache_outbox (sku) VALUES (?)',
    [...new Set(lines.map((l) => l.sku))].map((s) => [s]),
  );
}
