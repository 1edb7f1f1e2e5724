/**
 * Receipts and adjustments on MySQL/MariaDB (issue 22): data/stock/stock-admin.ts for InnoDB,
 * with the same refusals and answers. Each is fenced by its idempotency key
 * (fencedChangeOnMariadb); on-hand moves by one guarded UPDATE (`on_hand + delta >= reserved
 * + damaged + quality_control`, 0 rows = refused: never read-add-write, never negative, the
 * table's CHECKs behind it), read back under the row's lock (mechanism 5); a lot-tracked level
 * is changed through withLevelLots, which asserts before COMMIT that its lots still sum to its
 * on-hand (mechanism 2). The ledger row and the cache outbox row commit with the change.
 */
import type { Pool } from 'mariadb';
import { DomainError, ErrorCode } from '../../domain/errors';
import { adjustmentAllowed, lotDates, type AdjustReason, type PerishableSettings } from '../../domain/stock';
import { Operation } from '../../domain/types';
import type { Db } from '../db';
import { expectQuantity } from '../stock/admin-fence';
import { fencedChangeOnMariadb, lockLevelOnMariadb, lockLotOnMariadb, productForChangeOnMariadb } from './admin-fence';
import { withLevelLots } from './lots';
import { writeMariadbMovements } from './stock-tx';
import type { MariadbTx } from './tx';

/** data/stock/stock-admin.ts ReceiveInput, less its key. */
interface Receipt {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly quantity: number;
  readonly reason: string;
  readonly lotCode?: string;
  readonly expiresAt?: string;
  readonly receivedAt?: string;
  readonly expectedQuantity?: number;
}

/** A lot-tracked level's change runs under withLevelLots; any other level's as it is. */
function onLevel<T>(tx: MariadbTx, sku: string, warehouseCode: string, lotTracked: boolean, change: () => Promise<T>) {
  return lotTracked ? withLevelLots(tx, sku, warehouseCode, change) : change();
}

/** data/stock/stock-admin.ts receiveStock on MariaDB. */
export async function receiveOnMariadb(db: Db, pool: Pool, idempotencyKey: string, request: Receipt, actor?: string) {
  return fencedChangeOnMariadb(
    db,
    pool,
    Operation.RECEIVE,
    idempotencyKey,
    request,
    async (tx, serial) => {
      const { sku, warehouseCode, quantity, reason, lotCode } = request;
      const product = await productForChangeOnMariadb(tx, sku, lotCode);
      const [warehouse] = await tx.query<unknown[]>('SELECT code FROM warehouses WHERE code = ?', [warehouseCode]);
      if (!warehouse) throw new DomainError(ErrorCode.UNKNOWN_WAREHOUSE, `no warehouse ${warehouseCode}`);
      await checkUseBy(tx, request);
      // Ensure the level row, X-locked from here on (mechanism 3's first step). Not a plain
      // INSERT caught at 1062: InnoDB answers a duplicate with a shared lock on the row, and two
      // receipts holding it would deadlock asking for the row's X lock next.
      await tx.query(
        'INSERT INTO inventory_levels (sku, warehouse_code) VALUES (?, ?) ON DUPLICATE KEY UPDATE sku = sku',
        [sku, warehouseCode],
      );
      return onLevel(tx, sku, warehouseCode, product.lotTracked, async () => {
        const before = await lockLevelOnMariadb(tx, sku, warehouseCode);
        expectQuantity(request.expectedQuantity, before.onHand, 'on-hand');
        const after = await changeOnHand(tx, sku, warehouseCode, quantity);
        if (lotCode) await addToLotOnMariadb(tx, { ...request, lotCode }, product, { checkExpiry: true });
        await writeMariadbMovements(tx, [
          {
            sku,
            warehouseCode,
            lotCode,
            reason: `RECEIVE:${reason}`,
            reference: serial,
            onHandDelta: quantity,
            reservedDelta: 0,
          },
        ]);
        return { sku, warehouseCode, quantity, reason, lotCode, onHand: after.onHand, reserved: after.reserved };
      });
    },
    actor,
  );
}

/** A receipt's use-by date (data/stock/stock-admin.ts checkUseBy): only lots have one, a new lot must bring it. */
async function checkUseBy(tx: MariadbTx, r: Receipt): Promise<void> {
  if (!r.lotCode) {
    if (r.expiresAt !== undefined)
      throw new DomainError(ErrorCode.VALIDATION_FAILED, `${r.sku} is not lot-tracked: expiresAt not allowed`);
    return;
  }
  if (r.expiresAt !== undefined) {
    if (Date.parse(r.expiresAt) <= Date.now())
      throw new DomainError(
        ErrorCode.VALIDATION_FAILED,
        `expiresAt ${r.expiresAt} is in the past: goods past their use-by date are not received`,
        { expiresAt: r.expiresAt },
      );
    return;
  }
  const [lot] = await tx.query<unknown[]>(
    'SELECT lot_code FROM stock_lots WHERE sku = ? AND warehouse_code = ? AND lot_code = ?',
    [r.sku, r.warehouseCode, r.lotCode],
  );
  if (!lot)
    throw new DomainError(ErrorCode.VALIDATION_FAILED, `lot ${r.lotCode} is new: give its use-by date (expiresAt)`);
}

/** The guarded on-hand change of a locked level, then the row read back under its lock. */
async function changeOnHand(tx: MariadbTx, sku: string, warehouseCode: string, delta: number) {
  const done = await tx.query<{ affectedRows: number }>(
    `UPDATE inventory_levels SET on_hand = on_hand + ?, version = version + 1, updated_at = UTC_TIMESTAMP(3)
      WHERE sku = ? AND warehouse_code = ? AND on_hand + ? >= reserved + damaged + quality_control`,
    [delta, sku, warehouseCode, delta],
  );
  if (done.affectedRows === 0)
    throw new DomainError(
      ErrorCode.ADJUSTMENT_REFUSED,
      'on-hand would fall below the quantity held for orders, damaged or in quality control',
      { delta },
    );
  const [row] = await tx.query<{ on_hand: number; reserved: number }[]>(
    'SELECT on_hand, reserved FROM inventory_levels WHERE sku = ? AND warehouse_code = ?',
    [sku, warehouseCode],
  );
  return { onHand: row.on_hand, reserved: row.reserved };
}

/** Units arriving into one lot (data/stock/stock-admin.ts LotReceipt). */
export interface MariadbLotArrival {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly lotCode: string;
  readonly quantity: number;
  readonly expiresAt?: string | null;
  readonly receivedAt?: string;
}

/**
 * data/stock/stock-admin.ts addToLot on MariaDB (for the other MariaDB paths that bring units
 * into a lot: returns, transfers): adds to a lot, creating it with its dates; with
 * `checkExpiry`, an existing lot keeps its use-by date and a receipt naming another one is
 * refused (one lot code, one date). Call it inside withLevelLots, the level locked.
 */
export async function addToLotOnMariadb(
  tx: MariadbTx,
  r: MariadbLotArrival,
  settings: PerishableSettings,
  { checkExpiry }: { checkExpiry: boolean } = { checkExpiry: true },
): Promise<void> {
  const expiresAt = r.expiresAt ? new Date(r.expiresAt) : null;
  const { alertAt, removeAt } = lotDates(expiresAt, settings);
  const receivedAt = r.receivedAt ? new Date(r.receivedAt) : new Date();
  // No VALUES() (deprecated on MySQL 8.0.20+): the quantity is passed twice.
  await tx.query(
    `INSERT INTO stock_lots (sku, warehouse_code, lot_code, quantity, received_at, expires_at, alert_at, remove_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE quantity = quantity + ?`,
    [r.sku, r.warehouseCode, r.lotCode, r.quantity, receivedAt, expiresAt, alertAt, removeAt, r.quantity],
  );
  const [lot] = await tx.query<{ expires_at: Date | null }[]>(
    'SELECT expires_at FROM stock_lots WHERE sku = ? AND warehouse_code = ? AND lot_code = ?',
    [r.sku, r.warehouseCode, r.lotCode],
  );
  if (checkExpiry && r.expiresAt !== undefined && (lot.expires_at?.getTime() ?? null) !== expiresAt?.getTime())
    throw new DomainError(ErrorCode.VALIDATION_FAILED, `lot ${r.lotCode} exists with another use-by date`, {
      expiresAt: lot.expires_at?.toISOString() ?? null,
    });
}

/** data/stock/stock-admin.ts AdjustInput, less its key. */
interface Adjustment {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly delta: number;
  readonly reasonCode: AdjustReason;
  readonly lotCode?: string;
  readonly note?: string;
  readonly expectedQuantity?: number;
}

/** data/stock/stock-admin.ts adjustStock on MariaDB: never below what is held, never a lot below 0. */
export async function adjustOnMariadb(db: Db, pool: Pool, idempotencyKey: string, request: Adjustment, actor?: string) {
  return fencedChangeOnMariadb(
    db,
    pool,
    Operation.ADJUST,
    idempotencyKey,
    request,
    async (tx, serial) => {
      const { sku, warehouseCode, delta, reasonCode, lotCode } = request;
      if (!adjustmentAllowed(reasonCode, delta))
        throw new DomainError(ErrorCode.VALIDATION_FAILED, `${reasonCode} cannot move stock by ${delta}`);
      const product = await productForChangeOnMariadb(tx, sku, lotCode);
      return onLevel(tx, sku, warehouseCode, product.lotTracked, async () => {
        const level = await lockLevelOnMariadb(tx, sku, warehouseCode);
        const lot = lotCode ? await lockLotOnMariadb(tx, sku, warehouseCode, lotCode) : undefined;
        expectQuantity(request.expectedQuantity, lot ? lot.quantity : level.onHand, lot ? `lot ${lotCode}` : 'on-hand');
        const after = await changeOnHand(tx, sku, warehouseCode, delta);
        if (lotCode) {
          const done = await tx.query<{ affectedRows: number }>(
            `UPDATE stock_lots SET quantity = quantity + ?
              WHERE sku = ? AND warehouse_code = ? AND lot_code = ? AND quantity + ? >= 0`,
            [delta, sku, warehouseCode, lotCode, delta],
          );
          if (done.affectedRows === 0)
            throw new DomainError(ErrorCode.ADJUSTMENT_REFUSED, `lot ${lotCode} holds ${lot!.quantity}`, { delta });
        }
        const reason = `ADJUST:${reasonCode}${request.note ? `:${request.note}` : ''}`;
        await writeMariadbMovements(tx, [
          { sku, warehouseCode, lotCode, reason, reference: serial, onHandDelta: delta, reservedDelta: 0 },
        ]);
        return { sku, warehouseCode, lotCode, delta, reasonCode, onHand: after.onHand, reserved: after.reserved };
      });
    },
    actor,
  );
}
