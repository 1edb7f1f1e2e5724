/**
 * Payments in PostgreSQL: stored PENDING when the webhook hears of them, settled in the same
 * transaction as the step that settles them. A settled payment never changes again, except a
 * BACKORDERED pre-order's, which its fulfilment settles once more.
 */
import { PaymentState, type OrderPayment, type Settlement } from '../../domain/payments';
import { inKeyLockedTx, type Db, type Tx } from '../db';
import { mariadbOf } from '../mariadb/db';
import {
  findUnsettledPaymentsOnMariadb,
  orderKnownOnMariadb,
  readPaymentsOnMariadb,
  recordSettlementResultOnMariadb,
  settlePaymentOnMariadb,
  settleUnknownOrderOnMariadb,
  storePaymentOnMariadb,
  undeliveredPaymentEventsOnMariadb,
} from '../mariadb/payments';
import type { PaymentCursor, PaymentRecord } from './payment-types';

export type { PaymentCursor, PaymentRecord } from './payment-types';

/** The store's pool when `db` is a MySQL/MariaDB `Db` (a Prisma transaction never is). */
function mariadbPoolOf(db: Db | Tx) {
  return mariadbOf(db as Db);
}

/**
 * Stores a payment PENDING unless it is already stored; returns the stored row either way
 * (a payment reported again under another event keeps its first row and its settlement).
 */
export async function storePayment(db: Db | Tx, p: OrderPayment): Promise<{ record: PaymentRecord; created: boolean }> {
  const maria = mariadbPoolOf(db);
  if (maria) return storePaymentOnMariadb(maria, p);
  const created = await db.$executeRaw`
    INSERT INTO payments (order_id, payment_id, event_id, amount_cents, currency)
    VALUES (${p.orderId}, ${p.paymentId}, ${p.eventId}, ${p.amountCents}, ${p.currency ?? null})
    ON CONFLICT (order_id, payment_id) DO NOTHING`;
  const [record] = await readPayments(db, p.orderId, p.paymentId);
  return { record, created: created > 0 };
}

/**
 * Settles a payment inside the caller's transaction and returns the settlement that stands:
 * the first settlement wins; a backorder may be settled once more. A payment the webhook
 * never stored (a signal sent by hand) is stored settled, so no payment a saga acted on is
 * missing from the table.
 */
export async function settlePaymentTx(tx: Db | Tx, p: OrderPayment, s: Settlement): Promise<Settlement> {
  const maria = mariadbPoolOf(tx);
  if (maria) return settlePaymentOnMariadb(maria, p, s);
  await tx.$executeRaw`
    INSERT INTO payments AS p (order_id, payment_id, event_id, amount_cents, currency, state, reason, reservation_id, settled_at)
    VALUES (${p.orderId}, ${p.paymentId}, ${p.eventId}, ${p.amountCents}, ${p.currency ?? null}, ${s.state}, ${s.reason ?? null}, ${s.reservationId ?? null}, now())
    ON CONFLICT (order_id, payment_id) DO UPDATE
       SET state = EXCLUDED.state, reason = EXCLUDED.reason, reservation_id = EXCLUDED.reservation_id, settled_at = now()
     WHERE p.state = 'PENDING' OR (p.state = 'BACKORDERED' AND EXCLUDED.state IN ('CONFIRMED', 'REFUND_REQUIRED'))`;
  const [stored] = await readPayments(tx, p.orderId, p.paymentId);
  return {
    state: stored.state as Settlement['state'],
    ...(stored.reason ? { reason: stored.reason } : {}),
    ...(stored.reservationId ? { reservationId: stored.reservationId } : {}),
  };
}

/** Settles the payment a backorder holds when its pre-sale goods are allocated. */
export async function settleBackorderTx(
  tx: Tx,
  reservationId: string,
  state: 'CONFIRMED' | 'REFUND_REQUIRED',
): Promise<void> {
  await tx.$executeRaw`
    UPDATE payments p
       SET state = ${state}, settled_at = now(),
           reason = CASE WHEN ${state} = 'REFUND_REQUIRED' THEN 'the pre-sale goods received could not cover this order' END
      FROM reservations r
     WHERE r.id = ${reservationId} AND p.order_id = r.order_id AND p.payment_id = r.payment_id AND p.state = 'BACKORDERED'`;
}

/** The type of the events that report a payment made (payment_events.type); other types (payment.pending) report no payment to settle. */
export const SUCCEEDED_EVENT = 'payment.succeeded';

/** The payments of an order (all, or one), oldest first. */
export async function readPayments(db: Db | Tx, orderId: string, paymentId?: string): Promise<PaymentRecord[]> {
  const maria = mariadbPoolOf(db);
  if (maria) return readPaymentsOnMariadb(maria, orderId, paymentId);
  const rows = await db.payment.findMany({
    where: { orderId, ...(paymentId ? { paymentId } : {}) },
    orderBy: [{ receivedAt: 'asc' }, { paymentId: 'asc' }],
  });
  return rows.map(toRecord);
}

/**
 * One page of the payments still PENDING more than `minutes` after they arrived, oldest
 * first, after `after` (keyset: a page never skips or repeats a payment, whatever settles
 * between two pages).
 */
export async function findUnsettledPayments(
  db: Db,
  minutes: number,
  page: { after?: PaymentCursor; limit?: number } = {},
): Promise<PaymentRecord[]> {
  const maria = mariadbOf(db);
  if (maria) return findUnsettledPaymentsOnMariadb(maria, minutes, page);
  const after = page.after;
  const at = after ? new Date(after.receivedAt) : undefined;
  const rows = await db.payment.findMany({
    where: {
      state: PaymentState.PENDING,
      receivedAt: { lt: new Date(Date.now() - minutes * 60_000) },
      ...(after && at
        ? {
            OR: [
              { receivedAt: { gt: at } },
              { receivedAt: at, orderId: { gt: after.orderId } },
              { receivedAt: at, orderId: after.orderId, paymentId: { gt: after.paymentId } },
            ],
          }
        : {}),
    },
    orderBy: [{ receivedAt: 'asc' }, { orderId: 'asc' }, { paymentId: 'asc' }],
    take: page.limit ?? 500,
  });
  return rows.map(toRecord);
}

/** The reason a payment for an order PostgreSQL never knew is settled REFUND_REQUIRED with. */
export const UNKNOWN_ORDER = 'UNKNOWN_ORDER';

/**
 * Settles a payment whose order PostgreSQL still does not know REFUND_REQUIRED (reason
 * UNKNOWN_ORDER), raises its PAYMENT_UNKNOWN_ORDER alert and closes its delivery — all in one
 * transaction under the order's serial lock, the lock its hold takes, so a hold committing
 * now is seen and the payment is left to it (undefined: the order is known after all).
 */
export async function settleUnknownOrder(
  db: Db,
  p: OrderPayment & { receivedAt: string },
): Promise<Settlement | undefined> {
  const maria = mariadbOf(db);
  if (maria) return settleUnknownOrderOnMariadb(maria, p, UNKNOWN_ORDER, SUCCEEDED_EVENT);
  return inKeyLockedTx(db, p.orderId, async (tx) => {
    if (await orderKnown(tx, p.orderId)) return undefined;
    const settled = await settlePaymentTx(tx, p, { state: PaymentState.REFUND_REQUIRED, reason: UNKNOWN_ORDER });
    await tx.$executeRaw`UPDATE payment_events SET result = ${settled.state} WHERE order_id = ${p.orderId} AND payment_id = ${p.paymentId} AND type = ${SUCCEEDED_EVENT}`;
    const details = {
      orderId: p.orderId,
      paymentId: p.paymentId,
      eventId: p.eventId,
      amountCents: p.amountCents,
      receivedAt: p.receivedAt,
      state: settled.state,
    };
    await tx.$executeRaw`
      INSERT INTO stock_alerts (kind, subject, sku, warehouse_code, details)
      VALUES ('PAYMENT_UNKNOWN_ORDER', ${`${p.orderId}/${p.paymentId}`}, '-', '-', ${JSON.stringify(details)}::jsonb)
      ON CONFLICT (kind, subject) DO NOTHING`;
    await tx.$executeRaw`DELETE FROM payment_deliveries WHERE order_id = ${p.orderId} AND payment_id = ${p.paymentId}`;
    return settled;
  });
}

type PaymentRow = Awaited<ReturnType<Db['payment']['findMany']>>[number];

function toRecord(r: PaymentRow): PaymentRecord {
  return {
    orderId: r.orderId,
    paymentId: r.paymentId,
    eventId: r.eventId,
    amountCents: r.amountCents,
    currency: r.currency,
    state: r.state as PaymentState,
    reason: r.reason,
    reservationId: r.reservationId,
    receivedAt: r.receivedAt.toISOString(),
    settledAt: r.settledAt?.toISOString() ?? null,
  };
}

/**
 * Whether PostgreSQL knows the order: it reached the reserve step (held or refused). The
 * webhook settles payments of known orders even when Temporal no longer has their history.
 */
export async function orderKnown(db: Db | Tx, orderId: string): Promise<boolean> {
  const maria = mariadbPoolOf(db);
  if (maria) return orderKnownOnMariadb(maria, orderId);
  const rows = await db.$queryRaw<{ known: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM reservations WHERE id = ${orderId})
        OR EXISTS (SELECT 1 FROM operation_fences WHERE serial = ${orderId} AND operation IN ('RESERVE', 'RELEASE')) AS known`;
  return rows[0].known;
}

/** Records how a payment was settled on its webhook events (what `GET /orders/:id` shows). */
export async function recordSettlementResult(
  db: Db,
  orderId: string,
  paymentId: string,
  result: string,
): Promise<void> {
  const maria = mariadbOf(db);
  if (maria) return recordSettlementResultOnMariadb(maria, orderId, paymentId, result, SUCCEEDED_EVENT);
  await db.paymentEvent.updateMany({ where: { orderId, paymentId, type: SUCCEEDED_EVENT }, data: { result } });
}

/** An order's payment events not delivered to its saga (settled late, refused, pending), oldest first. */
export function undeliveredPaymentEvents(db: Db, orderId: string) {
  const maria = mariadbOf(db);
  if (maria) return undeliveredPaymentEventsOnMariadb(maria, orderId, SUCCEEDED_EVENT);
  return db.paymentEvent.findMany({
    where: { orderId, type: SUCCEEDED_EVENT, NOT: { result: 'DELIVERED' } },
    orderBy: { receivedAt: 'asc' },
    select: { eventId: true, paymentId: true, result: true },
  });
}
