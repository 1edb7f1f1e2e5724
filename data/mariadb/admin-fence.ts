/**
 * What every admin stock change shares on MySQL/MariaDB (issue 22): data/stock/admin-fence.ts
 * for InnoDB. Idempotency by the caller's key (the serial's slot lock, its fence read, the
 * change, its fence written — one transaction), compare-and-set on the quantity the operator
 * saw, and the level row locked before its lots (the fixed lock order).
 */
import type { Pool } from 'mariadb';
import { DomainError, ErrorCode } from '../../domain/errors';
import type { Operation } from '../../domain/types';
import type { Db } from '../db';
import { adminSerial, replayOf, type AdminRecord } from '../stock/admin-fence';
import { inMariadbStockTx } from './stock-tx';
import { readMariadbFence, writeMariadbFence, type MariadbTx } from './tx';

/**
 * data/stock/admin-fence.ts fencedChange on MariaDB: a repeat of the same request answers the
 * first outcome with `replayed: true`; the key with another request is IDEMPOTENCY_CONFLICT; a
 * refused change (a thrown DomainError) rolls back and records nothing.
 */
export async function fencedChangeOnMariadb<R extends object, O extends object>(
  db: Db,
  pool: Pool,
  operation: Operation,
  idempotencyKey: string,
  request: R,
  work: (tx: MariadbTx, serial: string) => Promise<O>,
  actor?: string,
): Promise<O & { replayed: boolean }> {
  const serial = adminSerial(idempotencyKey);
  const normalized = JSON.parse(JSON.stringify(request)) as R;
  return inMariadbStockTx(
    db,
    pool,
    serial,
    async (tx) => {
      const first = await readMariadbFence<AdminRecord<R, O>>(tx, serial, operation);
      if (first) return replayOf(first, normalized);
      const outcome = await work(tx, serial);
      // The slot lock orders every change of this serial, so the fence is ours; a duplicate
      // here is a broken invariant, and throwing rolls the change back with it.
      if (!(await writeMariadbFence(tx, serial, operation, { request: normalized, outcome })))
        throw new Error(`the fence of ${serial} ${operation} was recorded under its lock by someone else`);
      return { ...outcome, replayed: false };
    },
    actor,
  );
}

/** A level row locked for this transaction (data/stock/admin-fence.ts LockedLevel). */
export interface MariadbLockedLevel {
  readonly onHand: number;
  readonly reserved: number;
  readonly safetyStock: number;
  readonly damaged: number;
  readonly qualityControl: number;
}

/** Locks the level row (before any of its lots) or fails LEVEL_NOT_FOUND. */
export async function lockLevelOnMariadb(
  tx: MariadbTx,
  sku: string,
  warehouseCode: string,
): Promise<MariadbLockedLevel> {
  const [r] = await tx.query<
    { on_hand: number; reserved: number; safety_stock: number; damaged: number; quality_control: number }[]
  >(
    `SELECT on_hand, reserved, safety_stock, damaged, quality_control FROM inventory_levels
      WHERE sku = ? AND warehouse_code = ? FOR UPDATE`,
    [sku, warehouseCode],
  );
  if (!r) throw new DomainError(ErrorCode.LEVEL_NOT_FOUND, `no stock of ${sku} at ${warehouseCode}`);
  return {
    onHand: r.on_hand,
    reserved: r.reserved,
    safetyStock: r.safety_stock,
    damaged: r.damaged,
    qualityControl: r.quality_control,
  };
}

/** A lot row locked for this transaction (its level locked first), or LOT_NOT_FOUND. */
export async function lockLotOnMariadb(tx: MariadbTx, sku: string, warehouseCode: string, lotCode: string) {
  const [r] = await tx.query<{ quantity: number; quarantined: number | boolean }[]>(
    'SELECT quantity, quarantined FROM stock_lots WHERE sku = ? AND warehouse_code = ? AND lot_code = ? FOR UPDATE',
    [sku, warehouseCode, lotCode],
  );
  if (!r) throw new DomainError(ErrorCode.LOT_NOT_FOUND, `no lot ${lotCode} of ${sku} at ${warehouseCode}`);
  return { quantity: r.quantity, quarantined: Boolean(r.quarantined) };
}

/** The product a change names, checked against its lot rule: lot-tracked ⇔ lot code given. */
export async function productForChangeOnMariadb(tx: MariadbTx, sku: string, lotCode: string | undefined) {
  const [row] = await tx.query<
    {
      lot_tracked: number | boolean;
      alert_days_before_expiry: number | null;
      removal_days_before_expiry: number | null;
    }[]
  >('SELECT lot_tracked, alert_days_before_expiry, removal_days_before_expiry FROM products WHERE sku = ?', [sku]);
  if (!row) throw new DomainError(ErrorCode.UNKNOWN_PRODUCT, `no product ${sku}`);
  const lotTracked = Boolean(row.lot_tracked);
  if (lotTracked && !lotCode)
    throw new DomainError(ErrorCode.VALIDATION_FAILED, `${sku} is lot-tracked: name the lot (lotCode)`);
  if (!lotTracked && lotCode)
    throw new DomainError(ErrorCode.VALIDATION_FAILED, `${sku} is not lot-tracked: lotCode not allowed`);
  return {
    lotTracked,
    alertDaysBeforeExpiry: row.alert_days_before_expiry,
    removalDaysBeforeExpiry: row.removal_days_before_expiry,
  };
}
