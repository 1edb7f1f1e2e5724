/**
 * Stock on hand that may not be sold: moves of units between the states AVAILABLE, DAMAGED and
 * QUALITY_CONTROL, and write-offs out of any of them (on-hand falls). Each is one guarded
 * UPDATE on the locked level: a move out of AVAILABLE takes only what is available (held
 * units never move), a move out of a bucket only what the bucket holds. Idempotent by the
 * caller's move id (admin-fence.ts); every change writes its ledger row with the buckets'
 * deltas, so reconciliation checks each bucket against Σ its ledger.
 */
import { DomainError, ErrorCode } from '../../domain/errors';
import { moveDeltas, MoveTarget, StockState } from '../../domain/stock';
import { Operation } from '../../domain/types';
import { Prisma } from '../../generated/prisma/client';
import { writeMovements, type Db, type Tx } from '../db';
import { fencedChange, lockLevel, lockLot, productForChange } from './admin-fence';
import { AVAILABLE, BUMP_VERSION } from './level-sql';
import { mariadbOf } from '../mariadb/db';
import { moveOnMariadb } from '../mariadb/stock-states';

/** A move of `quantity` units of one level from one state to another (or out: WRITE_OFF). */
export interface MoveInput {
  readonly moveId: string;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly from: StockState;
  readonly to: MoveTarget;
  readonly quantity: number;
  readonly reason: string;
  /** Lot-tracked products name the lot (a write-off takes its units from it). */
  readonly lotCode?: string;
}

/** A level's quantities after a change, availability as the guard computes it (clamped at 0). */
export interface LevelState {
  readonly onHand: number;
  readonly reserved: number;
  readonly damaged: number;
  readonly qualityControl: number;
  readonly available: number;
}

/** What a move did, with the level after it. */
export interface MoveOutcome extends LevelState {
  readonly moveId: string;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly from: StockState;
  readonly to: MoveTarget;
  readonly quantity: number;
  readonly lotCode?: string;
}

/** The column of a state's bucket, or undefined for AVAILABLE (what is left, no column). */
const bucketColumn = (state: MoveTarget): Prisma.Sql | undefined =>
  state === StockState.DAMAGED
    ? Prisma.sql`damaged`
    : state === StockState.QUALITY_CONTROL
      ? Prisma.sql`quality_control`
      : undefined;

/** Moves units between states, or writes them off; see the module comment. */
export async function moveStock(
  db: Db,
  { moveId, ...request }: MoveInput,
  actor?: string,
): Promise<MoveOutcome & { replayed: boolean }> {
  const maria = mariadbOf(db);
  if (maria) return moveOnMariadb(db, maria, moveId, request, actor);
  return fencedChange(
    db,
    Operation.MOVE,
    moveId,
    request,
    async (tx, serial) => {
      const { sku, warehouseCode, from, to, quantity, lotCode } = request;
      if ((from as MoveTarget) === to)
        throw new DomainError(ErrorCode.VALIDATION_FAILED, `from and to are both ${from}: nothing to move`);
      await productForChange(tx, sku, lotCode);
      await lockLevel(tx, sku, warehouseCode);
      const lot = lotCode ? await lockLot(tx, sku, warehouseCode, lotCode) : undefined;
      const deltas = moveDeltas(from, to, quantity);
      const moved = await tx.$executeRaw`
        UPDATE inventory_levels
           SET on_hand = on_hand + ${deltas.onHand}, damaged = damaged + ${deltas.damaged},
               quality_control = quality_control + ${deltas.qualityControl}, ${BUMP_VERSION}
         WHERE sku = ${sku} AND warehouse_code = ${warehouseCode} AND ${enough(from, quantity)}`;
      if (moved === 0) {
        const before = await levelState(tx, sku, warehouseCode);
        throw new DomainError(
          ErrorCode.MOVE_REFUSED,
          `${from} of ${sku} at ${warehouseCode} has fewer than ${quantity} units (held units never move)`,
          {
            from,
            quantity,
            inState: inState(before, from),
          },
        );
      }
      if (lotCode && deltas.onHand !== 0) {
        const taken = await tx.$executeRaw`
          UPDATE stock_lots SET quantity = quantity + ${deltas.onHand}
           WHERE sku = ${sku} AND warehouse_code = ${warehouseCode} AND lot_code = ${lotCode} AND quantity + ${deltas.onHand} >= 0`;
        if (taken === 0)
          throw new DomainError(ErrorCode.MOVE_REFUSED, `lot ${lotCode} holds ${lot!.quantity}`, {
            from,
            quantity,
            inState: lot!.quantity,
          });
      }
      const reason =
        to === MoveTarget.WRITE_OFF ? `WRITE_OFF:${from}:${request.reason}` : `MOVE:${from}:${to}:${request.reason}`;
      await writeMovements(tx, [
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
      return { moveId, sku, warehouseCode, from, to, quantity, lotCode, ...(await levelState(tx, sku, warehouseCode)) };
    },
    actor,
  );
}

/** The guard of a move out of `from`: AVAILABLE by the one formula, a bucket by its count. */
function enough(from: StockState, quantity: number): Prisma.Sql {
  const column = bucketColumn(from);
  return column ? Prisma.sql`${column} >= ${quantity}` : Prisma.sql`${AVAILABLE} >= ${quantity}`;
}

function inState(level: LevelState, state: StockState): number {
  return state === StockState.DAMAGED
    ? level.damaged
    : state === StockState.QUALITY_CONTROL
      ? level.qualityControl
      : level.available;
}

/** A level's quantities as this transaction sees them; zeros for a level that does not exist. */
export async function levelState(tx: Tx, sku: string, warehouseCode: string): Promise<LevelState> {
  const rows = await tx.$queryRaw<
    { on_hand: number; reserved: number; damaged: number; quality_control: number; available: number }[]
  >`
    SELECT on_hand, reserved, damaged, quality_control, ${AVAILABLE} AS available
      FROM inventory_levels WHERE sku = ${sku} AND warehouse_code = ${warehouseCode}`;
  const r = rows[0];
  if (!r) return { onHand: 0, reserved: 0, damaged: 0, qualityControl: 0, available: 0 };
  return {
    onHand: r.on_hand,
    reserved: r.reserved,
    damaged: r.damaged,
    qualityControl: r.quality_control,
    available: Math.max(0, r.available),
  };
}
