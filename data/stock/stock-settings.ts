/**
 * Admin settings of the stock that move no units: a level's safety stock and a lot's
 * quarantine. Fenced and audited like every admin change (admin-fence.ts); the cached
 * availability is dropped after the commit.
 */
import { Operation } from '../../domain/types';
import { expectQuantity, fencedChange, lockLevel, lockLot } from './admin-fence';
import { recordInvalidations, type Db } from '../db';
import { AVAILABLE, BUMP_VERSION } from './level-sql';
import { mariadbOf } from '../mariadb/db';
import { setLotQuarantineOnMariadb, setSafetyStockOnMariadb } from '../mariadb/stock-settings';

/** Sets the stock a level keeps back from sale. */
export interface SafetyStockInput {
  readonly idempotencyKey: string;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly safetyStock: number;
  /** Compare-and-set: the safety stock the operator saw. */
  readonly expectedQuantity?: number;
}

/** Safety stock is kept back from availability; it moves no goods, so no ledger row. */
export async function setSafetyStock(db: Db, { idempotencyKey, ...request }: SafetyStockInput, actor?: string) {
  const maria = mariadbOf(db);
  if (maria) return setSafetyStockOnMariadb(db, maria, idempotencyKey, request, actor);
  return fencedChange(
    db,
    Operation.SET_SAFETY_STOCK,
    idempotencyKey,
    request,
    async (tx) => {
      const { sku, warehouseCode, safetyStock } = request;
      const level = await lockLevel(tx, sku, warehouseCode);
      expectQuantity(request.expectedQuantity, level.safetyStock, 'safety stock');
      await tx.$executeRaw`
      UPDATE inventory_levels SET safety_stock = ${safetyStock}, ${BUMP_VERSION}
       WHERE sku = ${sku} AND warehouse_code = ${warehouseCode}`;
      // No ledger row, but availability changed: the cached view must go (see writeMovements).
      await recordInvalidations(tx, [sku]);
      return { sku, warehouseCode, safetyStock, previous: level.safetyStock };
    },
    actor,
  );
}

/** Takes a lot out of sale (quarantine) or puts it back. */
export interface QuarantineInput {
  readonly idempotencyKey: string;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly lotCode: string;
  readonly quarantined: boolean;
  readonly reason: string;
  /** Compare-and-set: the lot's quantity the operator saw. */
  readonly expectedQuantity?: number;
}

/**
 * Flags the lot; from then on it no longer counts as available. Holds already taken stay:
 * confirmation consumes sellable lots first (FEFO), so a quarantined lot is used last. Never
 * silently, though: the outcome carries `available` after the change, below 0 when the
 * holds now need more than is sellable, and reconciliation reports such a level
 * (AVAILABLE_NEGATIVE) until someone releases holds or lifts the quarantine.
 */
export async function setLotQuarantine(db: Db, { idempotencyKey, ...request }: QuarantineInput, actor?: string) {
  const maria = mariadbOf(db);
  if (maria) return setLotQuarantineOnMariadb(db, maria, idempotencyKey, request, actor);
  const operation = request.quarantined ? Operation.QUARANTINE : Operation.RELEASE_QUARANTINE;
  return fencedChange(
    db,
    operation,
    idempotencyKey,
    request,
    async (tx) => {
      const { sku, warehouseCode, lotCode, quarantined, reason } = request;
      await lockLevel(tx, sku, warehouseCode);
      const lot = await lockLot(tx, sku, warehouseCode, lotCode);
      expectQuantity(request.expectedQuantity, lot.quantity, `lot ${lotCode}`);
      await tx.$executeRaw`
      UPDATE stock_lots SET quarantined = ${quarantined}, quarantine_reason = ${quarantined ? reason : null}
       WHERE sku = ${sku} AND warehouse_code = ${warehouseCode} AND lot_code = ${lotCode}`;
      // Bump the level so readers and racing reserves see the change on the row they lock
      // (a reserve waiting on it re-checks its guard in a fresh statement: guard.ts).
      const [after] = await tx.$queryRaw<{ available: number }[]>`
      UPDATE inventory_levels SET ${BUMP_VERSION}
       WHERE sku = ${sku} AND warehouse_code = ${warehouseCode}
      RETURNING ${AVAILABLE} AS available`;
      await recordInvalidations(tx, [sku]);
      return { sku, warehouseCode, lotCode, quantity: lot.quantity, quarantined, available: after.available };
    },
    actor,
  );
}
