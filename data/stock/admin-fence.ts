/**
 * What every admin stock change shares: idempotency by the caller's key, compare-and-set on
 * the quantity the operator saw, and locking the level row before touching it.
 */
import { isDeepStrictEqual } from 'node:util';
import { DomainError, ErrorCode } from '../../domain/errors';
import type { Operation } from '../../domain/types';
import { inKeyLockedTx, readFence, writeFence, type Db, type Tx } from '../db';

/** The fence record of an admin change: the request as first made, and its outcome. */
export interface AdminRecord<R, O> {
  readonly request: R;
  readonly outcome: O;
}

/** The ledger reference and fence serial of an admin change. */
export function adminSerial(idempotencyKey: string): string {
  return `admin:${idempotencyKey}`;
}

/**
 * Runs an admin change once per (key, operation). A repeat of the same request answers the
 * first outcome with `replayed: true`; the key with another request is refused, never
 * silently ignored. A refused change (thrown DomainError) records nothing, so it can be
 * retried with the same key once corrected. `actor` (a key id) is recorded on the ledger rows
 * the change writes; it is not part of the request: the same change repeated by another key
 * is a replay.
 */
export async function fencedChange<R extends object, O extends object>(
  db: Db,
  operation: Operation,
  idempotencyKey: string,
  request: R,
  work: (tx: Tx, serial: string) => Promise<O>,
  actor?: string,
): Promise<O & { replayed: boolean }> {
  const serial = adminSerial(idempotencyKey);
  // Stored as JSON: compare in the same form (no undefined fields).
  const normalized = JSON.parse(JSON.stringify(request)) as R;
  return inKeyLockedTx(
    db,
    serial,
    async (tx) => {
      const first = await readFence<AdminRecord<R, O>>(tx, serial, operation);
      if (first) return replayOf(first, normalized);
      const outcome = await work(tx, serial);
      await writeFence(tx, serial, operation, { request: normalized, outcome });
      return { ...outcome, replayed: false };
    },
    actor,
  );
}

/**
 * The answer to a key used before: its first outcome, replayed, when the request is the same
 * (as stored: JSON, no undefined fields); IDEMPOTENCY_CONFLICT when the key came with another.
 */
export function replayOf<R, O extends object>(first: AdminRecord<R, O>, request: R): O & { replayed: true } {
  if (!isDeepStrictEqual(first.request, request)) {
    throw new DomainError(ErrorCode.IDEMPOTENCY_CONFLICT, 'this idempotency key was used for a different request', {
      first: first.request,
    });
  }
  return { ...first.outcome, replayed: true };
}

/** Compare-and-set: the change applies only to the quantity the operator expected to find. */
export function expectQuantity(expected: number | undefined, actual: number, what: string): void {
  if (expected !== undefined && expected !== actual) {
    throw new DomainError(
      ErrorCode.STALE_QUANTITY,
      `${what} is ${actual}, not the expected ${expected}; nothing changed`,
      {
        expected,
        actual,
      },
    );
  }
}

/** A level row locked for this transaction. */
export interface LockedLevel {
  readonly onHand: number;
  readonly reserved: number;
  readonly safetyStock: number;
  readonly damaged: number;
  readonly qualityControl: number;
}

/** Locks the level row (before any of its lots: the fixed lock order) or fails 404. */
export async function lockLevel(tx: Tx, sku: string, warehouseCode: string): Promise<LockedLevel> {
  const rows = await tx.$queryRaw<
    { on_hand: number; reserved: number; safety_stock: number; damaged: number; quality_control: number }[]
  >`
    SELECT on_hand, reserved, safety_stock, damaged, quality_control FROM inventory_levels
     WHERE sku = ${sku} AND warehouse_code = ${warehouseCode} FOR UPDATE`;
  if (rows.length === 0) throw new DomainError(ErrorCode.LEVEL_NOT_FOUND, `no stock of ${sku} at ${warehouseCode}`);
  const r = rows[0];
  return {
    onHand: r.on_hand,
    reserved: r.reserved,
    safetyStock: r.safety_stock,
    damaged: r.damaged,
    qualityControl: r.quality_control,
  };
}

/** A lot row locked for this transaction (lock its level first). */
export async function lockLot(tx: Tx, sku: string, warehouseCode: string, lotCode: string) {
  const rows = await tx.$queryRaw<{ quantity: number; quarantined: boolean }[]>`
    SELECT quantity, quarantined FROM stock_lots
     WHERE sku = ${sku} AND warehouse_code = ${warehouseCode} AND lot_code = ${lotCode} FOR UPDATE`;
  if (rows.length === 0)
    throw new DomainError(ErrorCode.LOT_NOT_FOUND, `no lot ${lotCode} of ${sku} at ${warehouseCode}`);
  return rows[0];
}

/** The product a change names, checked against its lot rule: lot-tracked ⇔ lot code given. */
export async function productForChange(tx: Tx, sku: string, lotCode: string | undefined) {
  const product = await tx.product.findUnique({ where: { sku } });
  if (!product) throw new DomainError(ErrorCode.UNKNOWN_PRODUCT, `no product ${sku}`);
  if (product.lotTracked && !lotCode) {
    throw new DomainError(ErrorCode.VALIDATION_FAILED, `${sku} is lot-tracked: name the lot (lotCode)`);
  }
  if (!product.lotTracked && lotCode) {
    throw new DomainError(ErrorCode.VALIDATION_FAILED, `${sku} is not lot-tracked: lotCode not allowed`);
  }
  return product;
}
