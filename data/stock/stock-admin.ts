/**
 * Admin stock changes: receipts (with lots and dates), adjustments with a reason code,
 * safety stock, lot quarantine. Each is idempotent by its key and may carry the quantity
 * the operator expects to find (compare-and-set); see admin-fence.ts.
 */
import { DomainError, ErrorCode } from '../../domain/errors';
import { adjustmentAllowed, lotDates, type AdjustReason, type PerishableSettings } from '../../domain/stock';
import { Operation } from '../../domain/types';
import { expectQuantity, fencedChange, lockLevel, lockLot, productForChange } from './admin-fence';
import { writeMovements, type Db, type Tx } from '../db';
import { BUMP_VERSION } from './level-sql';
import { mariadbOf } from '../mariadb/db';
import { adjustOnMariadb, receiveOnMariadb } from '../mariadb/stock-admin';

/** A receipt of goods into a warehouse, idempotent by its key. */
export interface ReceiveInput {
  readonly idempotencyKey: string;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly quantity: number;
  readonly reason: string;
  /** Required for lot-tracked products, refused for others. */
  readonly lotCode?: string;
  /** Use-by date (ISO); alert and removal dates follow from the product's settings. */
  readonly expiresAt?: string;
  readonly receivedAt?: string;
  /** Compare-and-set: the level's on-hand before the receipt. */
  readonly expectedQuantity?: number;
}

/** The level after a receipt; `replayed` when the key had been used before. */
export interface ReceiveOutcome {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly quantity: number;
  readonly reason: string;
  readonly lotCode?: string;
  readonly onHand: number;
  readonly reserved: number;
  readonly replayed: boolean;
}

/** Adds received goods to on-hand (and to the lot); see the module comment. */
export async function receiveStock(
  db: Db,
  { idempotencyKey, ...request }: ReceiveInput,
  actor?: string,
): Promise<ReceiveOutcome> {
  const maria = mariadbOf(db);
  if (maria) return receiveOnMariadb(db, maria, idempotencyKey, request, actor);
  return fencedChange(
    db,
    Operation.RECEIVE,
    idempotencyKey,
    request,
    async (tx, serial) => {
      const product = await productForChange(tx, request.sku, request.lotCode);
      const warehouse = await tx.warehouse.findUnique({
        where: { code: request.warehouseCode },
        select: { code: true },
      });
      if (!warehouse) throw new DomainError(ErrorCode.UNKNOWN_WAREHOUSE, `no warehouse ${request.warehouseCode}`);
      await checkUseBy(tx, request);
      await tx.$executeRaw`
      INSERT INTO inventory_levels (sku, warehouse_code) VALUES (${request.sku}, ${request.warehouseCode})
      ON CONFLICT (sku, warehouse_code) DO NOTHING`;
      const before = await lockLevel(tx, request.sku, request.warehouseCode);
      expectQuantity(request.expectedQuantity, before.onHand, 'on-hand');
      const after = await changeOnHand(tx, request.sku, request.warehouseCode, request.quantity);
      if (request.lotCode) await addToLot(tx, { ...request, lotCode: request.lotCode }, product, { checkExpiry: true });
      await writeMovements(tx, [
        {
          sku: request.sku,
          warehouseCode: request.warehouseCode,
          lotCode: request.lotCode,
          reason: `RECEIVE:${request.reason}`,
          reference: serial,
          onHandDelta: request.quantity,
          reservedDelta: 0,
        },
      ]);
      const { sku, warehouseCode, quantity, reason, lotCode } = request;
      return { sku, warehouseCode, quantity, reason, lotCode, onHand: after.onHand, reserved: after.reserved };
    },
    actor,
  );
}

/**
 * A receipt's use-by date: only lots have one; a new lot must bring it (lot-tracked products
 * are the perishables) and it must lie ahead — goods past their use-by date are not received
 * into stock. A receipt into an existing lot may leave it out (the lot keeps its date).
 */
async function checkUseBy(tx: Tx, r: Omit<ReceiveInput, 'idempotencyKey'>): Promise<void> {
  if (!r.lotCode) {
    if (r.expiresAt !== undefined)
      throw new DomainError(ErrorCode.VALIDATION_FAILED, `${r.sku} is not lot-tracked: expiresAt not allowed`);
    return;
  }
  if (r.expiresAt !== undefined) {
    if (Date.parse(r.expiresAt) <= Date.now()) {
      throw new DomainError(
        ErrorCode.VALIDATION_FAILED,
        `expiresAt ${r.expiresAt} is in the past: goods past their use-by date are not received`,
        {
          expiresAt: r.expiresAt,
        },
      );
    }
    return;
  }
  const lot = await tx.stockLot.findUnique({
    where: { sku_warehouseCode_lotCode: { sku: r.sku, warehouseCode: r.warehouseCode, lotCode: r.lotCode } },
    select: { lotCode: true },
  });
  if (!lot)
    throw new DomainError(ErrorCode.VALIDATION_FAILED, `lot ${r.lotCode} is new: give its use-by date (expiresAt)`);
}

/**
 * Moves on-hand by `delta` unless it would drop below what is held or set aside (damaged,
 * quality control: those units are on the shelf; take them out with a write-off from their
 * state); the level must be locked.
 */
async function changeOnHand(tx: Tx, sku: string, warehouseCode: string, delta: number) {
  const rows = await tx.$queryRaw<{ on_hand: number; reserved: number }[]>`
    UPDATE inventory_levels
       SET on_hand = on_hand + ${delta}, ${BUMP_VERSION}
     WHERE sku = ${sku} AND warehouse_code = ${warehouseCode} AND on_hand + ${delta} >= reserved + damaged + quality_control
    RETURNING on_hand, reserved`;
  if (rows.length === 0) {
    throw new DomainError(
      ErrorCode.ADJUSTMENT_REFUSED,
      'on-hand would fall below the quantity held for orders, damaged or in quality control',
      { delta },
    );
  }
  return { onHand: rows[0].on_hand, reserved: rows[0].reserved };
}

/** Units arriving into one lot. */
export interface LotReceipt {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly lotCode: string;
  readonly quantity: number;
  readonly expiresAt?: string | null;
  readonly receivedAt?: string;
}

/**
 * Adds to a lot, creating it with its dates (derived from the product's settings). With
 * `checkExpiry`, an existing lot must keep its use-by date: one lot code, one date.
 */
export async function addToLot(
  tx: Tx,
  r: LotReceipt,
  settings: PerishableSettings,
  { checkExpiry }: { checkExpiry: boolean },
) {
  const expiresAt = r.expiresAt ? new Date(r.expiresAt) : null;
  const { alertAt, removeAt } = lotDates(expiresAt, settings);
  const receivedAt = r.receivedAt ? new Date(r.receivedAt) : new Date();
  const rows = await tx.$queryRaw<{ expires_at: Date | null }[]>`
    INSERT INTO stock_lots (sku, warehouse_code, lot_code, quantity, received_at, expires_at, alert_at, remove_at)
    VALUES (${r.sku}, ${r.warehouseCode}, ${r.lotCode}, ${r.quantity}, ${receivedAt}, ${expiresAt}, ${alertAt}, ${removeAt})
    ON CONFLICT (sku, warehouse_code, lot_code) DO UPDATE SET quantity = stock_lots.quantity + EXCLUDED.quantity
    RETURNING expires_at`;
  const stored = rows[0].expires_at?.getTime() ?? null;
  if (checkExpiry && r.expiresAt !== undefined && stored !== expiresAt?.getTime()) {
    throw new DomainError(ErrorCode.VALIDATION_FAILED, `lot ${r.lotCode} exists with another use-by date`, {
      expiresAt: rows[0].expires_at?.toISOString() ?? null,
    });
  }
}

/** A manual change of on-hand with its reason, e.g. a count or damaged goods. */
export interface AdjustInput {
  readonly idempotencyKey: string;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly delta: number;
  readonly reasonCode: AdjustReason;
  readonly lotCode?: string;
  readonly note?: string;
  /** Compare-and-set: the lot's quantity when a lot is named, else the level's on-hand. */
  readonly expectedQuantity?: number;
}

/**
 * Applies an adjustment: on-hand (and the lot) move by `delta` in one transaction with its
 * ledger row. Refused when on-hand would fall below what orders hold, or a lot below zero.
 */
export async function adjustStock(db: Db, { idempotencyKey, ...request }: AdjustInput, actor?: string) {
  const maria = mariadbOf(db);
  if (maria) return adjustOnMariadb(db, maria, idempotencyKey, request, actor);
  return fencedChange(
    db,
    Operation.ADJUST,
    idempotencyKey,
    request,
    async (tx, serial) => {
      const { sku, warehouseCode, delta, reasonCode, lotCode } = request;
      if (!adjustmentAllowed(reasonCode, delta)) {
        throw new DomainError(ErrorCode.VALIDATION_FAILED, `${reasonCode} cannot move stock by ${delta}`);
      }
      await productForChange(tx, sku, lotCode);
      const level = await lockLevel(tx, sku, warehouseCode);
      const lot = lotCode ? await lockLot(tx, sku, warehouseCode, lotCode) : undefined;
      expectQuantity(request.expectedQuantity, lot ? lot.quantity : level.onHand, lot ? `lot ${lotCode}` : 'on-hand');
      const after = await changeOnHand(tx, sku, warehouseCode, delta);
      if (lotCode) {
        const changed = await tx.$executeRaw`
        UPDATE stock_lots SET quantity = quantity + ${delta}
         WHERE sku = ${sku} AND warehouse_code = ${warehouseCode} AND lot_code = ${lotCode} AND quantity + ${delta} >= 0`;
        if (changed === 0)
          throw new DomainError(ErrorCode.ADJUSTMENT_REFUSED, `lot ${lotCode} holds ${lot!.quantity}`, { delta });
      }
      const reason = `ADJUST:${reasonCode}${request.note ? `:${request.note}` : ''}`;
      await writeMovements(tx, [
        { sku, warehouseCode, lotCode, reason, reference: serial, onHandDelta: delta, reservedDelta: 0 },
      ]);
      return { sku, warehouseCode, lotCode, delta, reasonCode, onHand: after.onHand, reserved: after.reserved };
    },
    actor,
  );
}
