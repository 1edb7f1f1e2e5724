/**
 * An order's edit on MySQL/MariaDB (issue 22): data/orders/edit.ts for InnoDB, with the same
 * refusals and answer. One READ COMMITTED transaction under the order's serial slot (mechanism
 * 1: the lock its reserve, release, confirm and the payment webhook's procedure take, so an edit
 * and a payment are ordered, the first to commit wins), all or nothing: the hold's row locked,
 * then only the deltas move, level by level in byte order of (SKU, warehouse) — an increase by
 * the guarded UPDATE (`available >= delta`, 0 rows: short) and the guard's re-check in a fresh
 * statement (a level below 0 was taken on a stale view of its lots), a decrease given back.
 * Any short line throws INSUFFICIENT_STOCK with the shortages and the transaction rolls back:
 * nothing changed, nothing recorded, so a short edit may be sent again once stock arrives.
 *
 * Fenced by (`<orderId>:edit:<editId>`, EDIT): a retry gets the first answer, the editId with
 * another body is IDEMPOTENCY_CONFLICT. A saga whose start is still in the outbox starts from the
 * edited order: its `saga_starts` row is rewritten in the same transaction (JSON_SET).
 */
import type { Pool } from 'mariadb';
import { DomainError, ErrorCode } from '../../domain/errors';
import { lineDeltas, mergeLines, sameLines, type LineDelta } from '../../domain/lines';
import { Operation, ReservationStatus, type OrderLine } from '../../domain/types';
import type { Db } from '../db';
import { assertCataloguedOnMariadb } from './catalog';
import { AVAILABLE } from './levels';
import { inMariadbStockTx, writeMariadbMovements } from './stock-tx';
import { readMariadbFence, writeMariadbFence, type MariadbTx } from './tx';

/** data/orders/edit.ts OrderEditRequest. */
export interface MariadbEditRequest {
  readonly orderId: string;
  readonly editId: string;
  readonly lines: readonly OrderLine[];
  readonly amountCents?: number;
  readonly expectedVersion?: number;
}

/** data/orders/edit.ts OrderEditOutcome. */
export interface MariadbEditOutcome {
  readonly orderId: string;
  readonly editId: string;
  readonly version: number;
  readonly lines: OrderLine[];
  readonly amountCents: number | null;
  readonly moved: { sku: string; warehouseCode: string; delta: number }[];
  readonly replayed: boolean;
}

/** data/orders/edit.ts editOrder on MariaDB; `actor` (a key id) is recorded on the ledger rows. */
export async function editOrderOnMariadb(
  db: Db,
  pool: Pool,
  edit: MariadbEditRequest,
  actor?: string,
): Promise<MariadbEditOutcome> {
  const serial = `${edit.orderId}:edit:${edit.editId}`;
  return inMariadbStockTx(
    db,
    pool,
    edit.orderId,
    async (tx) => {
      const first = await readMariadbFence<MariadbEditOutcome & { request: MariadbEditRequest }>(
        tx,
        serial,
        Operation.EDIT,
      );
      if (first) {
        if (!sameRequest(first.request, edit)) {
          throw new DomainError(
            ErrorCode.IDEMPOTENCY_CONFLICT,
            `edit ${edit.editId} of order ${edit.orderId} was sent with another body`,
          );
        }
        const { request: _request, ...outcome } = first;
        return { ...outcome, replayed: true };
      }
      const outcome = await applyEdit(tx, edit);
      // The slot orders every edit of this order: the fence is ours (a duplicate is a broken invariant).
      if (!(await writeMariadbFence(tx, serial, Operation.EDIT, { ...outcome, request: edit })))
        throw new Error(`the fence of ${serial} was recorded under its lock by someone else`);
      return outcome;
    },
    actor,
  );
}

async function applyEdit(tx: MariadbTx, edit: MariadbEditRequest): Promise<MariadbEditOutcome> {
  const { orderId } = edit;
  const [held] = await tx.query<
    { status: string; campaign_id: string | null; amount_cents: number | null; version: number; payments: unknown }[]
  >(
    `SELECT r.status, r.campaign_id, r.amount_cents, r.version,
            (SELECT COUNT(*) FROM payments p WHERE p.order_id = r.order_id) AS payments
       FROM reservations r WHERE r.id = ? FOR UPDATE`,
    [orderId],
  );
  if (!held) throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `no order ${orderId} holds stock`);
  const payments = Number(held.payments);
  const refuse = (why: string, details?: object) =>
    new DomainError(ErrorCode.NOT_EDITABLE, `order ${orderId} cannot be edited: ${why}`, details);
  if (held.campaign_id) throw refuse('a campaign or pre-sale order', { campaignId: held.campaign_id });
  if (payments > 0) throw refuse('a payment exists for it', { payments });
  if (held.status !== ReservationStatus.RESERVED) throw refuse(`it is ${held.status}`, { status: held.status });
  if (edit.expectedVersion !== undefined && edit.expectedVersion !== held.version) {
    throw new DomainError(ErrorCode.STALE_VERSION, `order ${orderId} is at version ${held.version}`, {
      expected: edit.expectedVersion,
      actual: held.version,
    });
  }
  const heldLines = await tx.query<OrderLine[]>(
    'SELECT sku, warehouse_code AS warehouseCode, quantity FROM reservation_lines WHERE reservation_id = ? ORDER BY sku, warehouse_code',
    [orderId],
  );
  const lines = mergeLines(edit.lines);
  const deltas = lineDeltas(
    heldLines.map((l) => ({ sku: l.sku, warehouseCode: l.warehouseCode, quantity: l.quantity })),
    lines,
  );
  await moveDeltas(tx, orderId, deltas);

  if (deltas.length > 0) {
    await tx.query('DELETE FROM reservation_lines WHERE reservation_id = ?', [orderId]);
    await tx.batch(
      'INSERT INTO reservation_lines (reservation_id, sku, warehouse_code, quantity) VALUES (?, ?, ?, ?)',
      lines.map((l) => [orderId, l.sku, l.warehouseCode, l.quantity]),
    );
  }
  const amountCents = edit.amountCents !== undefined ? edit.amountCents : held.amount_cents;
  const version = held.version + 1;
  await tx.query('UPDATE reservations SET version = ?, amount_cents = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = ?', [
    version,
    amountCents,
    orderId,
  ]);
  // A saga not started yet starts from its outbox row: it must start from the edited order.
  // JSON_EXTRACT(?, '$') makes the text a JSON value on MariaDB and MySQL alike (no CAST AS JSON on MariaDB).
  await tx.query(
    `UPDATE saga_starts
        SET input = JSON_SET(input, '$.order.lines', JSON_EXTRACT(?, '$'), '$.reservation.lines', JSON_EXTRACT(?, '$'),
                             '$.order.amountCents', JSON_EXTRACT(?, '$'))
      WHERE order_id = ? AND started_at IS NULL`,
    [JSON.stringify(lines), JSON.stringify(lines), JSON.stringify(amountCents), orderId],
  );
  return { orderId, editId: edit.editId, version, lines, amountCents, moved: deltas, replayed: false };
}

/**
 * The deltas in lock order: each increase one guarded UPDATE (0 rows: short), each decrease
 * gives back; then the guard's re-check. Any short line fails the whole edit (409
 * INSUFFICIENT_STOCK with the shortages; a SKU or warehouse that does not exist is 404).
 */
async function moveDeltas(tx: MariadbTx, orderId: string, deltas: readonly LineDelta[]): Promise<void> {
  const short: { sku: string; warehouseCode: string; requested: number }[] = [];
  for (const d of deltas) {
    if (d.delta > 0) {
      const taken = await tx.query<{ affectedRows: number }>(
        `UPDATE inventory_levels il SET il.reserved = il.reserved + ?, il.version = il.version + 1, il.updated_at = UTC_TIMESTAMP(3)
          WHERE il.sku = ? AND il.warehouse_code = ? AND ${AVAILABLE} >= ?`,
        [d.delta, d.sku, d.warehouseCode, d.delta],
      );
      if (taken.affectedRows === 0) short.push({ sku: d.sku, warehouseCode: d.warehouseCode, requested: d.delta });
    } else {
      await tx.query(
        `UPDATE inventory_levels SET reserved = reserved - ?, version = version + 1, updated_at = UTC_TIMESTAMP(3)
          WHERE sku = ? AND warehouse_code = ?`,
        [-d.delta, d.sku, d.warehouseCode],
      );
    }
  }
  const increases = deltas.filter((d) => d.delta > 0);
  if (short.length === 0 && increases.length > 0) {
    const below = await tx.query<{ sku: string; warehouse_code: string }[]>(
      `SELECT il.sku, il.warehouse_code FROM inventory_levels il
        WHERE (il.sku, il.warehouse_code) IN (${increases.map(() => '(?, ?)').join(', ')}) AND ${AVAILABLE} < 0`,
      increases.flatMap((d) => [d.sku, d.warehouseCode]),
    );
    for (const d of increases)
      if (below.some((r) => r.sku === d.sku && r.warehouse_code === d.warehouseCode))
        short.push({ sku: d.sku, warehouseCode: d.warehouseCode, requested: d.delta });
  }
  if (short.length > 0) {
    await assertCataloguedOnMariadb(
      tx,
      short.map((s) => s.sku),
      short.map((s) => s.warehouseCode),
    );
    const shortages = [];
    for (const s of short) {
      const [level] = await tx.query<{ available: unknown }[]>(
        `SELECT GREATEST(0, ${AVAILABLE}) AS available FROM inventory_levels il WHERE il.sku = ? AND il.warehouse_code = ?`,
        [s.sku, s.warehouseCode],
      );
      shortages.push({ ...s, available: Number(level?.available ?? 0) });
    }
    throw new DomainError(ErrorCode.INSUFFICIENT_STOCK, `order ${orderId}: not enough stock for the edit`, {
      shortages,
    });
  }
  await writeMariadbMovements(
    tx,
    deltas.map((d) => ({
      sku: d.sku,
      warehouseCode: d.warehouseCode,
      reason: d.delta > 0 ? 'RESERVE:EDIT' : 'RELEASE:EDIT',
      reference: orderId,
      onHandDelta: 0,
      reservedDelta: d.delta,
    })),
  );
}

function sameRequest(a: MariadbEditRequest, b: MariadbEditRequest): boolean {
  return sameLines(a.lines, b.lines) && a.amountCents === b.amountCents && a.expectedVersion === b.expectedVersion;
}
