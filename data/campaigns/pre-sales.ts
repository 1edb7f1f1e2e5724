/**
 * Pre-sales: a campaign selling stock that has not arrived. A pre-order takes the campaign's
 * pool like a flash-sale order, but no stock is held (there is none yet). Paid, it becomes a
 * backorder. When the goods are received, backorders are allocated first-paid-first-served
 * with the usual conditional UPDATE, **out of the goods received for the pre-sale only**:
 * ordinary stock of the same SKU in the warehouse belongs to ordinary orders, so backorders
 * the received goods cannot cover end REFUND_REQUIRED even when the shelf has more.
 *
 * Lock order: the campaign's advisory lock, then levels, then reservations — taken the same
 * way by the fulfilment and by a late confirm, so the two cannot deadlock.
 */
import type { Fulfilment } from '../../domain/reports';
import { DomainError, ErrorCode } from '../../domain/errors';
import { campaignSerial, Operation, ReservationStatus, type ConfirmOutcome, type OrderLine } from '../../domain/types';
import { settleBackorderTx } from '../payments/payments';
import { overdrawn } from '../stock/guard';
import { inKeyLockedTx, readFence, writeFence, writeMovements, type Db, type Tx } from '../db';
import { AVAILABLE, BUMP_VERSION } from '../stock/level-sql';
import { mariadbOf } from '../mariadb/db';
import { fulfilPreSaleOnMariadb } from '../mariadb/pre-sales';

/** Sells `line` out of on-hand stock to a backorder, if enough is available. */
async function allocate(tx: Tx, reservationId: string, line: OrderLine): Promise<boolean> {
  await tx.$executeRaw`SAVEPOINT allocate`;
  const sold = await tx.$executeRaw`
    UPDATE inventory_levels SET on_hand = on_hand - ${line.quantity}, ${BUMP_VERSION}
     WHERE sku = ${line.sku} AND warehouse_code = ${line.warehouseCode}
       AND ${AVAILABLE} >= ${line.quantity}`;
  // Sold on a stale view of the lots (guard.ts): undone, the backorder is not covered.
  const covered = sold > 0 && (await overdrawn(tx, [line])).length === 0;
  if (!covered) await tx.$executeRaw`ROLLBACK TO SAVEPOINT allocate`;
  await tx.$executeRaw`RELEASE SAVEPOINT allocate`;
  if (!covered) return false;
  await writeMovements(tx, [
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

/** Settles a backorder: allocated when the pre-sale's goods still cover it (`left` units) and the stock is there. */
async function allocateOrRefundBackorder(
  tx: Tx,
  reservationId: string,
  line: OrderLine,
  left: number,
): Promise<'CONFIRMED' | 'REFUND_REQUIRED'> {
  const covered = line.quantity <= left && (await allocate(tx, reservationId, line));
  const status = covered ? ReservationStatus.CONFIRMED : ReservationStatus.REFUND_REQUIRED;
  await tx.$executeRaw`UPDATE reservations SET status = ${status}, updated_at = now() WHERE id = ${reservationId}`;
  await settleBackorderTx(tx, reservationId, status);
  return status;
}

/**
 * Receives the pre-sale's goods and allocates them to the paid backorders, oldest payment
 * first. Once per campaign; the same key again returns the first result, another key is
 * refused. The campaign is FULFILLED afterwards: it takes no more pre-orders, and a pre-order
 * paid later is allocated (or refused) on the spot by its confirm.
 */
export async function fulfilPreSale(
  db: Db,
  campaignId: string,
  idempotencyKey: string,
  quantity: number,
): Promise<Fulfilment> {
  const maria = mariadbOf(db);
  if (maria) return fulfilPreSaleOnMariadb(db, maria, campaignId, idempotencyKey, quantity);
  const serial = campaignSerial(campaignId);
  return inKeyLockedTx(db, serial, async (tx) => {
    const first = await readFence<Fulfilment>(tx, serial, Operation.PRE_SALE_FULFIL);
    if (first) {
      if (first.idempotencyKey !== idempotencyKey || first.received !== quantity) {
        throw new DomainError(
          ErrorCode.IDEMPOTENCY_CONFLICT,
          `pre-sale ${campaignId} was fulfilled under key ${first.idempotencyKey}`,
        );
      }
      return first;
    }
    const c = await tx.campaign.findUnique({ where: { id: campaignId } });
    if (!c || c.kind !== 'PRE_SALE') throw new DomainError(ErrorCode.CAMPAIGN_NOT_FOUND, `no pre-sale ${campaignId}`);
    await tx.$executeRaw`
      UPDATE inventory_levels SET on_hand = on_hand + ${quantity}, ${BUMP_VERSION}
       WHERE sku = ${c.sku} AND warehouse_code = ${c.warehouseCode}`;
    await writeMovements(tx, [
      {
        sku: c.sku,
        warehouseCode: c.warehouseCode,
        reason: 'RECEIVE:pre-sale',
        reference: serial,
        onHandDelta: quantity,
        reservedDelta: 0,
      },
    ]);
    await tx.$executeRaw`UPDATE campaigns SET status = 'FULFILLED', ended_at = COALESCE(ended_at, now()) WHERE id = ${campaignId}`;
    const backorders = await tx.$queryRaw<{ id: string; quantity: number }[]>`
      SELECT r.id, l.quantity FROM reservations r JOIN reservation_lines l ON l.reservation_id = r.id
       WHERE r.campaign_id = ${campaignId} AND r.status = 'BACKORDERED' ORDER BY r.paid_at, r.id`;
    const outcome: Fulfilment = { idempotencyKey, received: quantity, allocated: [], refundRequired: [] };
    let left = quantity;
    for (const b of backorders) {
      const status = await allocateOrRefundBackorder(
        tx,
        b.id,
        { sku: c.sku, warehouseCode: c.warehouseCode, quantity: b.quantity },
        left,
      );
      if (status === 'CONFIRMED') left -= b.quantity;
      (status === 'CONFIRMED' ? outcome.allocated : outcome.refundRequired).push(b.id);
    }
    await writeFence(tx, serial, Operation.PRE_SALE_FULFIL, outcome);
    return outcome;
  });
}

/**
 * Takes the pre-sale's lock when the reservation is a pre-order, before its row is locked:
 * the fulfilment takes them in that order too. Returns the campaign id, if a pre-order.
 */
export async function lockPreSaleOf(tx: Tx, reservationId: string): Promise<string | undefined> {
  const rows = await tx.$queryRaw<{ campaign_id: string }[]>`
    SELECT r.campaign_id FROM reservations r JOIN campaigns c ON c.id = r.campaign_id
     WHERE r.id = ${reservationId} AND c.kind = 'PRE_SALE'`;
  if (rows.length === 0) return undefined;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${campaignSerial(rows[0].campaign_id)}, 0))`;
  return rows[0].campaign_id;
}

/**
 * Confirm of a paid pre-order (inside the confirm transaction, after lockPreSaleOf and with
 * the reservation row locked): a backorder while the goods are awaited; allocated on the
 * spot once they have arrived.
 */
export async function confirmPreOrder(
  tx: Tx,
  reservationId: string,
  campaignId: string,
  paymentId: string,
  line: OrderLine,
): Promise<ConfirmOutcome> {
  await tx.$executeRaw`
    UPDATE reservations SET status = 'BACKORDERED', payment_id = ${paymentId}, paid_at = now(), updated_at = now() WHERE id = ${reservationId}`;
  const c = await tx.campaign.findUniqueOrThrow({ where: { id: campaignId }, select: { status: true } });
  if (c.status !== 'FULFILLED') return { status: 'backordered', paymentId };
  const left = await receivedLeft(tx, campaignId);
  return (await allocateOrRefundBackorder(tx, reservationId, line, left)) === 'CONFIRMED'
    ? { status: 'confirmed', paymentId }
    : { status: 'unfulfillable', paymentId };
}

/** What the pre-sale's received goods still cover: received at fulfilment − units its pre-orders were sold since. */
async function receivedLeft(tx: Tx, campaignId: string): Promise<number> {
  const fulfilment = await readFence<Fulfilment>(tx, campaignSerial(campaignId), Operation.PRE_SALE_FULFIL);
  const [{ sold }] = await tx.$queryRaw<{ sold: number }[]>`
    SELECT COALESCE(SUM(l.quantity), 0)::int AS sold FROM reservations r JOIN reservation_lines l ON l.reservation_id = r.id
     WHERE r.campaign_id = ${campaignId} AND r.status = 'CONFIRMED'`;
  return (fulfilment?.received ?? 0) - sold;
}
