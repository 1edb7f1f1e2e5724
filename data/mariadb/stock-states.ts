/**
 * Moves between stock states and write-offs on MySQL/MariaDB (issue 22): data/stock/stock-states.ts
 * and data/stock/expiry.ts for InnoDB. Each is one guarded UPDATE on the locked level (a move out
 * of AVAILABLE takes only what is available, out of a bucket only what it holds: 0 rows =
 * refused), fenced by its serial, with its ledger row (the buckets' deltas) and its cache outbox
 * row in the transaction; a lot-tracked level changes through withLevelLots (lots = on hand,
 * asserted before COMMIT).
 */
import type { Pool } from 'mariadb';
import { DomainError, ErrorCode } from '../../domain/errors';
import { moveDeltas, MoveTarget, StockState } from '../../domain/stock';
import { Operation } from '../../domain/types';
import type { Db } from '../db';
import { fencedChangeOnMariadb, lockLevelOnMariadb, lockLotOnMariadb, productForChangeOnMariadb } from './admin-fence';
import { AVAILABLE_SQL } from './inventory-view';
import { withLevelLots } from './lots';
import { inMariadbStockTx, writeMariadbMovements } from './stock-tx';
import { readMariadbFence, writeMariadbFence, type MariadbTx } from './tx';

/** data/stock/stock-states.ts MoveInput, less its id. */
interface Move {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly from: StockState;
  readonly to: MoveTarget;
  readonly quantity: number;
  readonly reason: string;
  readonly lotCode?: string;
}

/** A level's quantities as this transaction sees them; zeros for a level that does not exist. */
export async function levelStateOnMariadb(tx: MariadbTx, sku: string, warehouseCode: string) {
  const [r] = await tx.query<
    { on_hand: number; reserved: number; damaged: number; quality_control: number; available: number }[]
  >(
    `SELECT il.on_hand, il.reserved, il.damaged, il.quality_control, ${AVAILABLE_SQL} AS available
       FROM inventory_levels il WHERE il.sku = ? AND il.warehouse_code = ?`,
    [sku, warehouseCode],
  );
  if (!r) return { onHand: 0, reserved: 0, damaged: 0, qualityControl: 0, available: 0 };
  return {
    onHand: r.on_hand,
    reserved: r.reserved,
    damaged: r.damaged,
    qualityControl: r.quality_control,
    available: Math.max(0, Number(r.available)),
  };
}

const bucketColumn = (state: StockState) =>
  state === StockState.DAMAGED ? 'damaged' : state === StockState.QUALITY_CONTROL ? 'quality_control' : undefined;

/** data/stock/stock-states.ts moveStock on MariaDB: same refusals (VALIDATION_FAILED, MOVE_REFUSED) and answer. */
export async function moveOnMariadb(db: Db, pool: Pool, moveId: string, request: Move, actor?: string) {
  return fencedChangeOnMariadb(
    db,
    pool,
    Operation.MOVE,
    moveId,
    request,
    async (tx, serial) => {
      const { sku, warehouseCode, from, to, quantity, lotCode } = request;
      if ((from as MoveTarget) === to)
        throw new DomainError(ErrorCode.VALIDATION_FAILED, `from and to are both ${from}: nothing to move`);
      const product = await productForChangeOnMariadb(tx, sku, lotCode);
      const change = async () => {
        await lockLevelOnMariadb(tx, sku, warehouseCode);
        const lot = lotCode ? await lockLotOnMariadb(tx, sku, warehouseCode, lotCode) : undefined;
        const deltas = moveDeltas(from, to, quantity);
        const column = bucketColumn(from);
        const moved = await tx.query<{ affectedRows: number }>(
          `UPDATE inventory_levels il
              SET il.on_hand = il.on_hand + ?, il.damaged = il.damaged + ?, il.quality_control = il.quality_control + ?,
                  il.version = il.version + 1, il.updated_at = UTC_TIMESTAMP(3)
            WHERE il.sku = ? AND il.warehouse_code = ? AND ${column ? `il.${column}` : `(${AVAILABLE_SQL})`} >= ?`,
          [deltas.onHand, deltas.damaged, deltas.qualityControl, sku, warehouseCode, quantity],
        );
        if (moved.affectedRows === 0) {
          const before = await levelStateOnMariadb(tx, sku, warehouseCode);
          const inState =
            from === StockState.DAMAGED
              ? before.damaged
              : from === StockState.QUALITY_CONTROL
                ? before.qualityControl
                : before.available;
          throw new DomainError(
            ErrorCode.MOVE_REFUSED,
            `${from} of ${sku} at ${warehouseCode} has fewer than ${quantity} units (held units never move)`,
            { from, quantity, inState },
          );
        }
        if (lotCode && deltas.onHand !== 0) {
          const taken = await tx.query<{ affectedRows: number }>(
            `UPDATE stock_lots SET quantity = quantity + ?
              WHERE sku = ? AND warehouse_code = ? AND lot_code = ? AND quantity + ? >= 0`,
            [deltas.onHand, sku, warehouseCode, lotCode, deltas.onHand],
          );
          if (taken.affectedRows === 0)
            throw new DomainError(ErrorCode.MOVE_REFUSED, `lot ${lotCode} holds ${lot!.quantity}`, {
              from,
              quantity,
              inState: lot!.quantity,
            });
        }
        const reason =
          to === MoveTarget.WRITE_OFF ? `WRITE_OFF:${from}:${request.reason}` : `MOVE:${from}:${to}:${request.reason}`;
        await writeMariadbMovements(tx, [
          {
            sku,
            warehouseCode,
            lotCode,
            reason,
            reference: serial,
            onHandDelta: deltas.onHand,
            reservedDelta: 0,
            damagedDelta: deltas.damaged,
            qualityControlDelta: deltas.qualityControl,
          },
        ]);
        return {
          moveId,
          sku,
          warehouseCode,
          from,
          to,
          quantity,
          lotCode,
          ...(await levelStateOnMariadb(tx, sku, warehouseCode)),
        };
      };
      return product.lotTracked ? withLevelLots(tx, sku, warehouseCode, change) : change();
    },
    actor,
  );
}

/**
 * data/stock/expiry.ts writeOffExpiredLots on MariaDB: every lot past its removal date, one
 * transaction per lot fenced by (run, lot); units held, damaged or in quality control stay.
 */
export async function writeOffExpiredOnMariadb(db: Db, pool: Pool, runId: string) {
  const due = await pool.query<{ sku: string; warehouse_code: string; lot_code: string }[]>(
    `SELECT sku, warehouse_code, lot_code FROM stock_lots
      WHERE quantity > 0 AND remove_at <= UTC_TIMESTAMP(3) ORDER BY sku, warehouse_code, lot_code`,
  );
  let lots = 0;
  let units = 0;
  for (const lot of due) {
    const taken = await writeOffLot(db, pool, runId, lot.sku, lot.warehouse_code, lot.lot_code);
    if (taken > 0) [lots, units] = [lots + 1, units + taken];
  }
  return { lots, units };
}

async function writeOffLot(db: Db, pool: Pool, runId: string, sku: string, warehouseCode: string, lotCode: string) {
  const serial = `writeoff:${runId}:${sku}:${warehouseCode}:${lotCode}`;
  return inMariadbStockTx(db, pool, serial, async (tx) => {
    const first = await readMariadbFence<{ units: number }>(tx, serial, Operation.WRITE_OFF);
    if (first) return first.units;
    return withLevelLots(tx, sku, warehouseCode, async () => {
      const level = await lockLevelOnMariadb(tx, sku, warehouseCode);
      const lot = await lockLotOnMariadb(tx, sku, warehouseCode, lotCode);
      const units = Math.max(
        0,
        Math.min(lot.quantity, level.onHand - level.reserved - level.damaged - level.qualityControl),
      );
      if (units > 0) {
        await tx.query(
          `UPDATE inventory_levels SET on_hand = on_hand - ?, version = version + 1, updated_at = UTC_TIMESTAMP(3)
            WHERE sku = ? AND warehouse_code = ? AND on_hand - ? >= reserved + damaged + quality_control`,
          [units, sku, warehouseCode, units],
        );
        await tx.query(
          'UPDATE stock_lots SET quantity = quantity - ? WHERE sku = ? AND warehouse_code = ? AND lot_code = ? AND quantity >= ?',
          [units, sku, warehouseCode, lotCode, units],
        );
        await writeMariadbMovements(tx, [
          {
            sku,
            warehouseCode,
            lotCode,
            reason: 'WRITE_OFF:EXPIRED',
            reference: serial,
            onHandDelta: -units,
            reservedDelta: 0,
          },
        ]);
      }
      if (!(await writeMariadbFence(tx, serial, Operation.WRITE_OFF, { units })))
        throw new Error(`the fence of ${serial} was recorded under its lock by someone else`);
      return units;
    });
  });
}
