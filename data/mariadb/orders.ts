/**
 * Reads of orders and holds on MySQL/MariaDB (issue 22): data/orders/queries.ts and the
 * database half of data/orders/order-view.ts for InnoDB, plus the order's fence-once writes
 * (the cancel's record). Lines come in lock order (byte order: utf8mb4_bin columns).
 */
import type { Pool } from 'mariadb';
import { compareLines } from '../../domain/lines';
import type { ReservationView } from '../../domain/reports';
import type { ConsumedLot } from '../../domain/stock';
import type { OrderLine, ReservationStatus } from '../../domain/types';
import { inMariadbTx, jsonValue, lockSerial, readMariadbFence, writeMariadbFence } from './tx';

interface HoldRow {
  id: string;
  order_id: string;
  user_id: string;
  status: string;
  payment_id: string | null;
  release_reason: string | null;
  expires_at: Date;
  updated_at: Date;
  campaign_id: string | null;
  amount_cents: number | null;
}

/** Each hold's lines, in lock order, for the holds named. */
async function linesOf(pool: Pool, ids: readonly string[]): Promise<Map<string, OrderLine[]>> {
  const out = new Map<string, OrderLine[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return out;
  const rows = await pool.query<{ reservation_id: string; sku: string; warehouse_code: string; quantity: number }[]>(
    `SELECT reservation_id, sku, warehouse_code, quantity FROM reservation_lines
      WHERE reservation_id IN (?) ORDER BY reservation_id, sku, warehouse_code`,
    [[...ids]],
  );
  for (const r of rows)
    out.get(r.reservation_id)?.push({ sku: r.sku, warehouseCode: r.warehouse_code, quantity: r.quantity });
  return out;
}

export async function findReservationOnMariadb(pool: Pool, reservationId: string): Promise<ReservationView | null> {
  const [r] = await pool.query<HoldRow[]>('SELECT * FROM reservations WHERE id = ?', [reservationId]);
  if (!r) return null;
  const lines = (await linesOf(pool, [r.id])).get(r.id) ?? [];
  return {
    reservationId: r.id,
    orderId: r.order_id,
    userId: r.user_id,
    status: r.status as ReservationStatus,
    paymentId: r.payment_id,
    releaseReason: r.release_reason,
    expiresAt: r.expires_at.toISOString(),
    campaignId: r.campaign_id,
    amountCents: r.amount_cents,
    lines: lines.sort(compareLines),
  };
}

/** Holds still RESERVED more than `graceSeconds` past their expiry, oldest first (the sweeper's). */
export async function findExpiredHoldsOnMariadb(
  pool: Pool,
  graceSeconds: number,
  limit: number,
): Promise<{ id: string; orderId: string; expiresAt: Date; lines: OrderLine[] }[]> {
  const holds = await pool.query<HoldRow[]>(
    `SELECT id, order_id, expires_at FROM reservations
      WHERE status = 'RESERVED' AND expires_at < UTC_TIMESTAMP(3) - INTERVAL ? MICROSECOND
      ORDER BY expires_at LIMIT ?`,
    [Math.max(0, Math.round(graceSeconds * 1_000_000)), limit],
  );
  const lines = await linesOf(
    pool,
    holds.map((h) => h.id),
  );
  return holds.map((h) => ({ id: h.id, orderId: h.order_id, expiresAt: h.expires_at, lines: lines.get(h.id) ?? [] }));
}

/** An order's first line in lock order; undefined for an order that holds nothing. */
export async function firstReservationLineOnMariadb(
  pool: Pool,
  orderId: string,
): Promise<{ sku: string; warehouseCode: string } | undefined> {
  const [line] = await pool.query<{ sku: string; warehouse_code: string }[]>(
    'SELECT sku, warehouse_code FROM reservation_lines WHERE reservation_id = ? ORDER BY sku, warehouse_code LIMIT 1',
    [orderId],
  );
  return line ? { sku: line.sku, warehouseCode: line.warehouse_code } : undefined;
}

/** The lots a confirmed hold was taken from, as its confirm recorded them; undefined before one. */
export async function consumedLotsOnMariadb(pool: Pool, orderId: string): Promise<ConsumedLot[] | undefined> {
  const [row] = await pool.query<{ consumed_lots: unknown }[]>('SELECT consumed_lots FROM reservations WHERE id = ?', [
    orderId,
  ]);
  return row?.consumed_lots == null ? undefined : (jsonValue(row.consumed_lots) as ConsumedLot[]);
}

/** The hold as orderFromDatabase reads it. */
export async function holdOfOrderOnMariadb(
  pool: Pool,
  orderId: string,
): Promise<
  { status: string; userId: string; expiresAt: Date; releaseReason: string | null; updatedAt: Date } | undefined
> {
  const [r] = await pool.query<HoldRow[]>(
    'SELECT status, user_id, expires_at, release_reason, updated_at FROM reservations WHERE id = ?',
    [orderId],
  );
  return r
    ? {
        status: r.status,
        userId: r.user_id,
        expiresAt: r.expires_at,
        releaseReason: r.release_reason,
        updatedAt: r.updated_at,
      }
    : undefined;
}

/** The recorded outcomes of several operations of one serial, in one round trip. */
export async function readFencesOnMariadb<T>(
  pool: Pool,
  serial: string,
  operations: readonly string[],
): Promise<Map<string, T>> {
  const rows = await pool.query<{ operation: string; outcome: unknown }[]>(
    'SELECT operation, outcome FROM operation_fences WHERE serial = ? AND operation IN (?)',
    [serial, [...operations]],
  );
  return new Map(rows.map((r) => [r.operation, jsonValue(r.outcome) as T]));
}

/**
 * Records (serial, operation) → outcome once, under the serial's slot lock like every step of
 * the order; a second (a retry, or two at once) gets the first record.
 */
export async function fenceOnceOnMariadb<T>(pool: Pool, serial: string, operation: string, outcome: T): Promise<T> {
  return inMariadbTx(pool, async (tx) => {
    await lockSerial(tx, serial);
    const first = await readMariadbFence<T>(tx, serial, operation);
    if (first) return first;
    if (await writeMariadbFence(tx, serial, operation, outcome)) return outcome;
    return (await readMariadbFence<T>(tx, serial, operation))!;
  });
}

/** The actor of the order's first RESERVE ledger row (orders placed before the outbox recorded the key). */
export async function reserveActorOnMariadb(pool: Pool, orderId: string): Promise<string | undefined> {
  const [row] = await pool.query<{ actor: string | null }[]>(
    `SELECT actor FROM stock_movements WHERE reference = ? AND reason = 'RESERVE' ORDER BY id LIMIT 1`,
    [orderId],
  );
  return row?.actor ?? undefined;
}
