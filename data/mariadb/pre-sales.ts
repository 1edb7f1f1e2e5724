/**
 * Pre-sales on MySQL/MariaDB (issue 22): data/campaigns/pre-sales.ts for InnoDB, with the
 * same outcomes. A pre-order takes the campaign's pool like a flash-sale order, but no stock
 * is held; paid, it is BACKORDERED. The fulfilment receives the pre-sale's goods and allocates
 * them to the backorders first-paid-first-served with the guarded UPDATE, **out of the goods
 * received for the pre-sale only**: backorders those goods cannot cover end REFUND_REQUIRED
 * even when the shelf has more. Once per campaign, fenced by its serial.
 *
 * Lock order: the campaign's slot, then the level, then the reservations — the fulfilment's;
 * a pre-order's confirm holds its own serial's slot, then takes the campaign's slot before it
 * locks the reservation row (confirm-payment.ts), so the two cannot deadlock.
 */
import type { Pool } from 'mariadb';
import { DomainError, ErrorCode } from '../../domain/errors';
import type { Fulfilment } from '../../domain/reports';
import { campaignSerial, Operation, type ConfirmOutcome, type OrderLine } from '../../domain/types';
import { currentActor, type Db } from '../db';
import { AVAILABLE } from './levels';
import { inMariadbStockTx, writeMariadbMovements } from './stock-tx';
import { readMariadbFence, writeMariadbFence, type MariadbTx } from './tx';

const REFUND_REASON = 'the pre-sale goods received could not cover this order';

/** Sells `line` out of on-hand stock to a backorder, if enough is available (one guarded UPDATE, then the guard's re-read). */
async function allocate(tx: MariadbTx, reservationId: string, line: OrderLine): Promise<boolean> {
  await tx.query('SAVEPOINT allocate');
  const sold = await tx.query<{ affectedRows: number }>(
    `UPDATE inventory_levels il SET il.on_hand = il.on_hand - ?, il.version = il.version + 1, il.updated_at = UTC_TIMESTAMP(3)
      WHERE il.sku = ? AND il.warehouse_code = ? AND ${AVAILABLE} >= ?`,
    [line.quantity, line.sku, line.warehouseCode, line.quantity],
  );
  let covered = sold.affectedRows > 0;
  if (covered) {
    // Sold on a stale view of the lots (data/stock/guard.ts): undone, the backorder is not covered.
    const [below] = await tx.query<unknown[]>(
      `SELECT 1 FROM inventory_levels il WHERE il.sku = ? AND il.warehouse_code = ? AND ${AVAILABLE} < 0`,
      [line.sku, line.warehouseCode],
    );
    covered = !below;
  }
  if (!covered) {
    await tx.query('ROLLBACK TO SAVEPOINT allocate');
    return false;
  }
  await writeMariadbMovements(tx, [
    {
      sku: line.sku,
      warehouseCode: line.warehouseCode,
      reason: 'CONFIRM',
      reference: reservationId,
      onHandDelta: -line.quantity,
      reservedDelta: 0,
    },
  ]);
  return true;
}

/** Settles the payment a backorder holds when its pre-sale goods are allocated (data/payments settleBackorderTx). */
export async function settleBackorderOnMariadb(
  tx: MariadbTx,
  reservationId: string,
  state: 'CONFIRMED' | 'REFUND_REQUIRED',
): Promise<void> {
  await tx.query(
    `UPDATE payments p JOIN reservations r ON p.order_id = r.order_id AND p.payment_id = r.payment_id
        SET p.state = ?, p.settled_at = UTC_TIMESTAMP(3), p.reason = ?
      WHERE r.id = ? AND p.state = 'BACKORDERED'`,
    [state, state === 'REFUND_REQUIRED' ? REFUND_REASON : null, reservationId],
  );
}

/** Settles a backorder: allocated when the pre-sale's goods still cover it (`left` units) and the stock is there. */
async function allocateOrRefundBackorder(
  tx: MariadbTx,
  reservationId: string,
  line: OrderLine,
  left: number,
): Promise<'CONFIRMED' | 'REFUND_REQUIRED'> {
  const covered = line.quantity <= left && (await allocate(tx, reservationId, line));
  const status = covered ? 'CONFIRMED' : 'REFUND_REQUIRED';
  await tx.query('UPDATE reservations SET status = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = ?', [
    status,
    reservationId,
  ]);
  await settleBackorderOnMariadb(tx, reservationId, status);
  return status;
}

/**
 * Receives the pre-sale's goods and allocates them to the paid backorders, oldest payment
 * first. Once per campaign; the same key again returns the first result, another key is
 * refused. The campaign is FULFILLED afterwards.
 */
export async function fulfilPreSaleOnMariadb(
  db: Db,
  pool: Pool,
  campaignId: string,
  idempotencyKey: string,
  quantity: number,
): Promise<Fulfilment> {
  const serial = campaignSerial(campaignId);
  return inMariadbStockTx(
    db,
    pool,
    serial,
    async (tx) => {
      const first = await readMariadbFence<Fulfilment>(tx, serial, Operation.PRE_SALE_FULFIL);
      if (first) {
        if (first.idempotencyKey !== idempotencyKey || first.received !== quantity) {
          throw new DomainError(
            ErrorCode.IDEMPOTENCY_CONFLICT,
            `pre-sale ${campaignId} was fulfilled under key ${first.idempotencyKey}`,
          );
        }
        return first;
      }
      const [c] = await tx.query<{ sku: string; warehouse_code: string; kind: string }[]>(
        'SELECT sku, warehouse_code, kind FROM campaigns WHERE id = ?',
        [campaignId],
      );
      if (!c || c.kind !== 'PRE_SALE') throw new DomainError(ErrorCode.CAMPAIGN_NOT_FOUND, `no pre-sale ${campaignId}`);
      await tx.query(
        `UPDATE inventory_levels SET on_hand = on_hand + ?, version = version + 1, updated_at = UTC_TIMESTAMP(3)
          WHERE sku = ? AND warehouse_code = ?`,
        [quantity, c.sku, c.warehouse_code],
      );
      await writeMariadbMovements(tx, [
        {
          sku: c.sku,
          warehouseCode: c.warehouse_code,
          reason: 'RECEIVE:pre-sale',
          reference: serial,
          onHandDelta: quantity,
          reservedDelta: 0,
        },
      ]);
      await tx.query(
        `UPDATE campaigns SET status = 'FULFILLED', ended_at = COALESCE(ended_at, UTC_TIMESTAMP(3)) WHERE id = ?`,
        [campaignId],
      );
      const backorders = await tx.query<{ id: string; quantity: number }[]>(
        `SELECT r.id, l.quantity FROM reservations r JOIN reservation_lines l ON l.reservation_id = r.id
          WHERE r.campaign_id = ? AND r.status = 'BACKORDERED' ORDER BY r.paid_at, r.id FOR UPDATE`,
        [campaignId],
      );
      const outcome: Fulfilment = { idempotencyKey, received: quantity, allocated: [], refundRequired: [] };
      let left = quantity;
      for (const b of backorders) {
        const line = { sku: c.sku, warehouseCode: c.warehouse_code, quantity: b.quantity };
        const status = await allocateOrRefundBackorder(tx, b.id, line, left);
        if (status === 'CONFIRMED') left -= b.quantity;
        (status === 'CONFIRMED' ? outcome.allocated : outcome.refundRequired).push(b.id);
      }
      await writeMariadbFence(tx, serial, Operation.PRE_SALE_FULFIL, outcome);
      return outcome;
    },
    currentActor(),
  );
}

/** The pre-sale a reservation is a pre-order of, if it is one (a plain read: the campaign never changes). */
export async function preSaleOfOnMariadb(tx: MariadbTx, reservationId: string): Promise<string | undefined> {
  const [row] = await tx.query<{ campaign_id: string }[]>(
    `SELECT r.campaign_id FROM reservations r JOIN campaigns c ON c.id = r.campaign_id
      WHERE r.id = ? AND c.kind = 'PRE_SALE'`,
    [reservationId],
  );
  return row?.campaign_id;
}

/**
 * Confirm of a paid pre-order (inside the confirm transaction, the campaign's slot held and
 * the reservation row locked): a backorder while the goods are awaited; allocated on the spot
 * once they have arrived, out of what the pre-sale's goods still cover.
 */
export async function confirmPreOrderOnMariadb(
  tx: MariadbTx,
  reservationId: string,
  campaignId: string,
  paymentId: string,
): Promise<ConfirmOutcome> {
  await tx.query(
    `UPDATE reservations SET status = 'BACKORDERED', payment_id = ?, paid_at = UTC_TIMESTAMP(3), updated_at = UTC_TIMESTAMP(3)
      WHERE id = ?`,
    [paymentId, reservationId],
  );
  const [c] = await tx.query<{ status: string; sku: string; warehouse_code: string }[]>(
    'SELECT status, sku, warehouse_code FROM campaigns WHERE id = ?',
    [campaignId],
  );
  if (c.status !== 'FULFILLED') return { status: 'backordered', paymentId };
  const [line] = await tx.query<OrderLine[]>(
    'SELECT sku, warehouse_code AS warehouseCode, quantity FROM reservation_lines WHERE reservation_id = ? ORDER BY sku, warehouse_code',
    [reservationId],
  );
  const left = await receivedLeft(tx, campaignId);
  return (await allocateOrRefundBackorder(tx, reservationId, { ...line }, left)) === 'CONFIRMED'
    ? { status: 'confirmed', paymentId }
    : { status: 'unfulfillable', paymentId };
}

/** What the pre-sale's received goods still cover: received at fulfilment − units its pre-orders were sold since. */
async function receivedLeft(tx: MariadbTx, campaignId: string): Promise<number> {
  const fulfilment = await readMariadbFence<Fulfilment>(tx, campaignSerial(campaignId), Operation.PRE_SALE_FULFIL);
  const [{ sold }] = await tx.query<{ sold: unknown }[]>(
    `SELECT COALESCE(SUM(l.quantity), 0) AS sold FROM reservations r JOIN reservation_lines l ON l.reservation_id = r.id
      WHERE r.campaign_id = ? AND r.status = 'CONFIRMED'`,
    [campaignId],
  );
  return (fulfilment?.received ?? 0) - Number(sold);
}
