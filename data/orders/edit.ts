/**
 * An order's edit (POST /orders/:id/edit): the complete new set of lines and, optionally, the
 * amount, applied in one transaction under the order's serial lock, all or nothing. Only the
 * deltas move: an increase takes its units with the guarded update (and the availability
 * guard's re-check), a decrease gives them back; a price-only edit writes no ledger row.
 *
 * Refused (409, nothing changed) once any payment exists for the order (the payment webhook
 * takes the same serial lock, stockhold_accept_payment.sql, so an edit and a payment are
 * ordered: the one that commits first wins), for campaign and pre-sale orders (their units
 * come from a pool with per-user limits), for a hold that is no longer held, and on a stale
 * `expectedVersion`. Fenced by (`<orderId>:edit:<editId>`, EDIT): a retry gets the first answer,
 * the same editId with another body is 409 IDEMPOTENCY_CONFLICT. A refusal records nothing, so
 * a short edit may be sent again once stock arrives.
 */
import { DomainError, ErrorCode } from '../../domain/errors';
import { lineDeltas, mergeLines, sameLines } from '../../domain/lines';
import { Operation, ReservationStatus, type OrderLine } from '../../domain/types';
import { inKeyLockedTx, readFence, writeFence, writeMovements, type Db, type Movement, type Tx } from '../db';
import { overdrawn } from '../stock/guard';
import { AVAILABLE, BUMP_VERSION } from '../stock/level-sql';
import { assertCatalogued } from '../stock/catalog';
import { mariadbOf } from '../mariadb/db';
import { editOrderOnMariadb } from '../mariadb/edit';
import { lockReservation } from './reservations';

export interface OrderEditRequest {
  readonly orderId: string;
  readonly editId: string;
  readonly lines: readonly OrderLine[];
  readonly amountCents?: number;
  readonly expectedVersion?: number;
}

export interface OrderEditOutcome {
  readonly orderId: string;
  readonly editId: string;
  readonly version: number;
  readonly lines: OrderLine[];
  readonly amountCents: number | null;
  /** Units taken (+) or given back (−) per level; empty for a price-only edit. */
  readonly moved: { sku: string; warehouseCode: string; delta: number }[];
  readonly replayed: boolean;
}

/** Applies the edit, or answers its first outcome; `actor` (a key id) is recorded on the ledger rows. */
export async function editOrder(db: Db, edit: OrderEditRequest, actor?: string): Promise<OrderEditOutcome> {
  const maria = mariadbOf(db);
  if (maria) return editOrderOnMariadb(db, maria, edit, actor);
  const serial = `${edit.orderId}:edit:${edit.editId}`;
  return inKeyLockedTx(
    db,
    edit.orderId,
    async (tx) => {
      const first = await readFence<OrderEditOutcome & { request: OrderEditRequest }>(tx, serial, Operation.EDIT);
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
      await writeFence(tx, serial, Operation.EDIT, { ...outcome, request: edit });
      return outcome;
    },
    actor,
  );
}

async function applyEdit(tx: Tx, edit: OrderEditRequest): Promise<OrderEditOutcome> {
  const { orderId } = edit;
  const held = await lockReservation(tx, orderId);
  if (!held) throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `no order ${orderId} holds stock`);
  const [meta] = await tx.$queryRaw<{ version: number; payments: number }[]>`
    SELECT r.version, (SELECT count(*)::int FROM payments p WHERE p.order_id = r.order_id) AS payments
      FROM reservations r WHERE r.id = ${orderId}`;
  const refuse = (why: string, details?: object) =>
    new DomainError(ErrorCode.NOT_EDITABLE, `order ${orderId} cannot be edited: ${why}`, details);
  if (held.campaignId) throw refuse('a campaign or pre-sale order', { campaignId: held.campaignId });
  if (meta.payments > 0) throw refuse('a payment exists for it', { payments: meta.payments });
  if (held.status !== ReservationStatus.RESERVED) throw refuse(`it is ${held.status}`, { status: held.status });
  if (edit.expectedVersion !== undefined && edit.expectedVersion !== meta.version) {
    throw new DomainError(ErrorCode.STALE_VERSION, `order ${orderId} is at version ${meta.version}`, {
      expected: edit.expectedVersion,
      actual: meta.version,
    });
  }
  const lines = mergeLines(edit.lines);
  const deltas = lineDeltas(held.lines, lines);
  await moveDeltas(tx, orderId, deltas);

  if (deltas.length > 0) {
    await tx.$executeRaw`DELETE FROM reservation_lines WHERE reservation_id = ${orderId}`;
    await tx.$executeRaw`
      INSERT INTO reservation_lines (reservation_id, sku, warehouse_code, quantity)
      SELECT ${orderId}, * FROM unnest(${lines.map((l) => l.sku)}::text[], ${lines.map((l) => l.warehouseCode)}::text[], ${lines.map((l) => l.quantity)}::int[])`;
  }
  const amountCents = edit.amountCents !== undefined ? edit.amountCents : held.amountCents;
  const version = meta.version + 1;
  await tx.$executeRaw`
    UPDATE reservations SET version = ${version}, amount_cents = ${amountCents}, updated_at = now() WHERE id = ${orderId}`;
  // A saga not started yet starts from its outbox row: it must start from the edited order.
  await tx.$executeRaw`
    UPDATE saga_starts
       SET input = jsonb_set(jsonb_set(jsonb_set(input, '{order,lines}', ${JSON.stringify(lines)}::jsonb),
                                       '{reservation,lines}', ${JSON.stringify(lines)}::jsonb),
                             '{order,amountCents}', ${JSON.stringify(amountCents)}::jsonb)
     WHERE order_id = ${orderId} AND started_at IS NULL`;
  return { orderId, editId: edit.editId, version, lines, amountCents, moved: deltas, replayed: false };
}

/**
 * The deltas in lock order: each increase one guarded update (0 rows: short), each decrease
 * gives back; then the guard's re-check. Any short line fails the whole edit (409
 * INSUFFICIENT_STOCK with the shortages): the transaction rolls back, nothing changed.
 */
async function moveDeltas(
  tx: Tx,
  orderId: string,
  deltas: readonly { sku: string; warehouseCode: string; delta: number }[],
): Promise<void> {
  const short: { sku: string; warehouseCode: string; requested: number }[] = [];
  for (const d of deltas) {
    if (d.delta > 0) {
      const taken = await tx.$executeRaw`
        UPDATE inventory_levels SET reserved = reserved + ${d.delta}, ${BUMP_VERSION}
         WHERE sku = ${d.sku} AND warehouse_code = ${d.warehouseCode} AND ${AVAILABLE} >= ${d.delta}`;
      if (taken === 0) short.push({ sku: d.sku, warehouseCode: d.warehouseCode, requested: d.delta });
    } else {
      await tx.$executeRaw`
        UPDATE inventory_levels SET reserved = reserved - ${-d.delta}, ${BUMP_VERSION}
         WHERE sku = ${d.sku} AND warehouse_code = ${d.warehouseCode}`;
    }
  }
  const increases = deltas.filter((d) => d.delta > 0);
  if (short.length === 0)
    short.push(
      ...(await overdrawn(tx, increases)).map((d) => ({
        sku: d.sku,
        warehouseCode: d.warehouseCode,
        requested: d.delta,
      })),
    );
  if (short.length > 0) {
    // A line naming a SKU or warehouse that does not exist is a 404, not a shortage.
    await assertCatalogued(
      tx,
      short.map((s) => s.sku),
      short.map((s) => s.warehouseCode),
    );
    const available = await tx.$queryRaw<{ sku: string; warehouse_code: string; available: number }[]>`
      SELECT sku, warehouse_code, GREATEST(0, ${AVAILABLE})::int AS available FROM inventory_levels
       WHERE (sku, warehouse_code) IN (SELECT * FROM unnest(${short.map((s) => s.sku)}::text[], ${short.map((s) => s.warehouseCode)}::text[]))`;
    const shortages = short.map((s) => ({
      ...s,
      available: available.find((a) => a.sku === s.sku && a.warehouse_code === s.warehouseCode)?.available ?? 0,
    }));
    throw new DomainError(ErrorCode.INSUFFICIENT_STOCK, `order ${orderId}: not enough stock for the edit`, {
      shortages,
    });
  }
  const movements: Movement[] = deltas.map((d) => ({
    sku: d.sku,
    warehouseCode: d.warehouseCode,
    reason: d.delta > 0 ? 'RESERVE:EDIT' : 'RELEASE:EDIT',
    reference: orderId,
    onHandDelta: 0,
    reservedDelta: d.delta,
  }));
  await writeMovements(tx, movements);
}

function sameRequest(a: OrderEditRequest, b: OrderEditRequest): boolean {
  return sameLines(a.lines, b.lines) && a.amountCents === b.amountCents && a.expectedVersion === b.expectedVersion;
}
