/**
 * Payments on MySQL/MariaDB (issue 22): the contract of data/payments/payments.ts for InnoDB.
 * A payment is stored PENDING before any saga hears of it and settled in the same transaction
 * as the step that settles it; the first settlement stands, a BACKORDERED one may be settled
 * once more. The conditional upsert PostgreSQL writes as `ON CONFLICT … DO UPDATE … WHERE` is
 * a guarded UPDATE, then an INSERT whose duplicate key sends it back to the guarded UPDATE
 * (docs/mysql.md, mechanisms 3 and 4); what stands is read back under the row's lock (5).
 */
import type { Pool } from 'mariadb';
import { PaymentState, type OrderPayment, type Settlement } from '../../domain/payments';
import type { PaymentCursor, PaymentRecord } from '../payments/payment-types';
import { inMariadbTx, isDuplicateKey, lockSerial, type MariadbTx } from './tx';

/** A pool or a connection inside a transaction: both answer `query`. */
export type MariadbQueryable = Pool | MariadbTx;

/** A DATETIME(3) column as ISO 8601 UTC text, whatever the driver's time zone (the session's is UTC). */
export function isoColumn(column: string): string {
  return `DATE_FORMAT(${column}, '%Y-%m-%dT%H:%i:%s.%fZ')`;
}

/** ISO text as a DATETIME(3) parameter (UTC, as the column holds it). */
export function utcParam(iso: string): string {
  return new Date(iso).toISOString().replace('T', ' ').replace('Z', '');
}

/** The text isoColumn gave (microseconds) as JavaScript's ISO form (milliseconds). */
export function isoOf(text: string): string;
export function isoOf(text: string | null): string | null;
export function isoOf(text: string | null): string | null {
  return text === null ? null : new Date(text).toISOString();
}

const PAYMENT_COLUMNS = `order_id, payment_id, event_id, amount_cents, currency, state, reason, reservation_id,
  ${isoColumn('received_at')} AS received_at, ${isoColumn('settled_at')} AS settled_at`;

interface PaymentRow {
  order_id: string;
  payment_id: string;
  event_id: string;
  amount_cents: number;
  currency: string | null;
  state: string;
  reason: string | null;
  reservation_id: string | null;
  received_at: string;
  settled_at: string | null;
}

function toRecord(r: PaymentRow): PaymentRecord {
  return {
    orderId: r.order_id,
    paymentId: r.payment_id,
    eventId: r.event_id,
    amountCents: r.amount_cents,
    currency: r.currency,
    state: r.state as PaymentState,
    reason: r.reason,
    reservationId: r.reservation_id,
    receivedAt: isoOf(r.received_at),
    settledAt: isoOf(r.settled_at),
  };
}

/** The payments of an order (all, or one), oldest first. */
export async function readPaymentsOnMariadb(
  db: MariadbQueryable,
  orderId: string,
  paymentId?: string,
): Promise<PaymentRecord[]> {
  const rows = await db.query<PaymentRow[]>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments WHERE order_id = ?${paymentId === undefined ? '' : ' AND payment_id = ?'}
      ORDER BY received_at, payment_id`,
    paymentId === undefined ? [orderId] : [orderId, paymentId],
  );
  return rows.map(toRecord);
}

/** Stores a payment PENDING unless it is stored; the stored row either way (its first report and settlement stand). */
export async function storePaymentOnMariadb(
  db: MariadbQueryable,
  p: OrderPayment,
): Promise<{ record: PaymentRecord; created: boolean }> {
  let created = true;
  try {
    await db.query(
      'INSERT INTO payments (order_id, payment_id, event_id, amount_cents, currency) VALUES (?, ?, ?, ?, ?)',
      [p.orderId, p.paymentId, p.eventId, p.amountCents, p.currency ?? null],
    );
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    created = false;
  }
  const [record] = await readPaymentsOnMariadb(db, p.orderId, p.paymentId);
  return { record, created };
}

/** Which stored states a settlement may replace: PENDING, or a backorder by its fulfilment's outcome. */
const MAY_SETTLE = `(state = 'PENDING' OR (state = 'BACKORDERED' AND ? IN ('CONFIRMED', 'REFUND_REQUIRED')))`;

/**
 * Settles a payment inside the caller's transaction and returns the settlement that stands
 * (the first wins; a backorder may be settled once more). A payment never stored (a signal
 * sent by hand) is stored settled. The guarded UPDATE comes first (the row is there in the
 * usual case, and an UPDATE that matches nothing takes no lock to upgrade later); a duplicate
 * key on the INSERT means another transaction stored it meanwhile: the guard decides again.
 */
export async function settlePaymentInMariadbTx(tx: MariadbTx, p: OrderPayment, s: Settlement): Promise<Settlement> {
  const update = () =>
    tx.query<{ affectedRows: number }>(
      `UPDATE payments SET state = ?, reason = ?, reservation_id = ?, settled_at = UTC_TIMESTAMP(3)
        WHERE order_id = ? AND payment_id = ? AND ${MAY_SETTLE}`,
      [s.state, s.reason ?? null, s.reservationId ?? null, p.orderId, p.paymentId, s.state],
    );
  if ((await update()).affectedRows === 0) {
    const [exists] = await tx.query<unknown[]>(
      'SELECT 1 FROM payments WHERE order_id = ? AND payment_id = ? FOR UPDATE',
      [p.orderId, p.paymentId],
    );
    if (!exists) {
      try {
        await tx.query(
          `INSERT INTO payments (order_id, payment_id, event_id, amount_cents, currency, state, reason, reservation_id, settled_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(3))`,
          [
            p.orderId,
            p.paymentId,
            p.eventId,
            p.amountCents,
            p.currency ?? null,
            s.state,
            s.reason ?? null,
            s.reservationId ?? null,
          ],
        );
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        await update();
      }
    }
  }
  const [stored] = await readPaymentsOnMariadb(tx, p.orderId, p.paymentId);
  return {
    state: stored.state as Settlement['state'],
    ...(stored.reason ? { reason: stored.reason } : {}),
    ...(stored.reservationId ? { reservationId: stored.reservationId } : {}),
  };
}

/** settlePaymentTx with a pool: its own READ COMMITTED transaction. */
export function settlePaymentOnMariadb(pool: Pool, p: OrderPayment, s: Settlement): Promise<Settlement> {
  return inMariadbTx(pool, (tx) => settlePaymentInMariadbTx(tx, p, s));
}

/**
 * One keyset page of the payments PENDING more than `minutes` after they arrived, oldest
 * first, after `after` (a page never skips or repeats one, whatever settles between pages).
 */
export async function findUnsettledPaymentsOnMariadb(
  pool: Pool,
  minutes: number,
  page: { after?: PaymentCursor; limit?: number } = {},
): Promise<PaymentRecord[]> {
  const after = page.after;
  const cutoff = utcParam(new Date(Date.now() - minutes * 60_000).toISOString());
  const rows = await pool.query<PaymentRow[]>(
    `SELECT ${PAYMENT_COLUMNS} FROM payments
      WHERE state = 'PENDING' AND received_at < ?${after ? ' AND (received_at, order_id, payment_id) > (?, ?, ?)' : ''}
      ORDER BY received_at, order_id, payment_id LIMIT ?`,
    [cutoff, ...(after ? [utcParam(after.receivedAt), after.orderId, after.paymentId] : []), page.limit ?? 500],
  );
  return rows.map(toRecord);
}

/** Whether the store knows the order: it reached the reserve step (held, refused or fenced off). */
export async function orderKnownOnMariadb(db: MariadbQueryable, orderId: string): Promise<boolean> {
  const [row] = await db.query<{ known: number }[]>(
    `SELECT EXISTS (SELECT 1 FROM reservations WHERE id = ?)
         OR EXISTS (SELECT 1 FROM operation_fences WHERE serial = ? AND operation IN ('RESERVE', 'RELEASE')) AS known`,
    [orderId, orderId],
  );
  return Number(row.known) === 1;
}

/**
 * Settles a payment whose order the store still does not know REFUND_REQUIRED (reason
 * UNKNOWN_ORDER), raises its PAYMENT_UNKNOWN_ORDER alert and closes its delivery, in one
 * transaction under the order's serial slot — the lock its hold takes, so a hold committing
 * now is seen and the payment is left to it (undefined: the order is known after all).
 */
export async function settleUnknownOrderOnMariadb(
  pool: Pool,
  p: OrderPayment & { receivedAt: string },
  reason: string,
  succeededType: string,
): Promise<Settlement | undefined> {
  return inMariadbTx(pool, async (tx) => {
    await lockSerial(tx, p.orderId);
    if (await orderKnownOnMariadb(tx, p.orderId)) return undefined;
    const settled = await settlePaymentInMariadbTx(tx, p, { state: PaymentState.REFUND_REQUIRED, reason });
    await tx.query('UPDATE payment_events SET result = ? WHERE order_id = ? AND payment_id = ? AND type = ?', [
      settled.state,
      p.orderId,
      p.paymentId,
      succeededType,
    ]);
    const details = {
      orderId: p.orderId,
      paymentId: p.paymentId,
      eventId: p.eventId,
      amountCents: p.amountCents,
      receivedAt: p.receivedAt,
      state: settled.state,
    };
    await raiseUnknownOrderAlert(tx, `${p.orderId}/${p.paymentId}`, details);
    await tx.query('DELETE FROM payment_deliveries WHERE order_id = ? AND payment_id = ?', [p.orderId, p.paymentId]);
    return settled;
  });
}

/**
 * The PAYMENT_UNKNOWN_ORDER alert, once per payment (its key: a duplicate is the alert raised
 * before, by the table's unique (kind, subject) key; a failed INSERT rolls back only itself in
 * InnoDB).
 */
async function raiseUnknownOrderAlert(tx: MariadbTx, subject: string, details: object): Promise<void> {
  try {
    await tx.query(
      `INSERT INTO stock_alerts (kind, subject, sku, warehouse_code, details) VALUES ('PAYMENT_UNKNOWN_ORDER', ?, '-', '-', ?)`,
      [subject, JSON.stringify(details)],
    );
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
  }
}

/** Records how a payment was settled on its `payment.succeeded` events. */
export async function recordSettlementResultOnMariadb(
  pool: Pool,
  orderId: string,
  paymentId: string,
  result: string,
  succeededType: string,
): Promise<void> {
  await pool.query('UPDATE payment_events SET result = ? WHERE order_id = ? AND payment_id = ? AND type = ?', [
    result,
    orderId,
    paymentId,
    succeededType,
  ]);
}

/** An order's payment events not delivered to its saga, oldest first. */
export async function undeliveredPaymentEventsOnMariadb(
  pool: Pool,
  orderId: string,
  succeededType: string,
): Promise<{ eventId: string; paymentId: string; result: string }[]> {
  const rows = await pool.query<{ eventId: string; paymentId: string; result: string }[]>(
    `SELECT event_id AS eventId, payment_id AS paymentId, result FROM payment_events
      WHERE order_id = ? AND type = ? AND result <> 'DELIVERED' ORDER BY received_at`,
    [orderId, succeededType],
  );
  return rows.map((r) => ({ ...r }));
}
