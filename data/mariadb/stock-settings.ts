/**
 * Safety stock and lot quarantine on MySQL/MariaDB (issue 22): data/stock/stock-settings.ts for
 * InnoDB. They move no units (no ledger row) but change availability, so each bumps the level's
 * version and writes its cache_outbox row in the transaction; fenced by the caller's key.
 */
import type { Pool } from 'mariadb';
import { Operation } from '../../domain/types';
import type { Db } from '../db';
import { expectQuantity } from '../stock/admin-fence';
import { fencedChangeOnMariadb, lockLevelOnMariadb, lockLotOnMariadb } from './admin-fence';
import { AVAILABLE_SQL } from './inventory-view';
import { recordMariadbInvalidations } from './stock-tx';

interface SafetyStock {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly safetyStock: number;
  readonly expectedQuantity?: number;
}

/** data/stock/stock-settings.ts setSafetyStock on MariaDB. */
export async function setSafetyStockOnMariadb(
  db: Db,
  pool: Pool,
  idempotencyKey: string,
  request: SafetyStock,
  actor?: string,
) {
  return fencedChangeOnMariadb(
    db,
    pool,
    Operation.SET_SAFETY_STOCK,
    idempotencyKey,
    request,
    async (tx) => {
      const { sku, warehouseCode, safetyStock } = request;
      const level = await lockLevelOnMariadb(tx, sku, warehouseCode);
      expectQuantity(request.expectedQuantity, level.safetyStock, 'safety stock');
      await tx.query(
        `UPDATE inventory_levels SET safety_stock = ?, version = version + 1, updated_at = UTC_TIMESTAMP(3)
          WHERE sku = ? AND warehouse_code = ?`,
        [safetyStock, sku, warehouseCode],
      );
      await recordMariadbInvalidations(tx, [sku]);
      return { sku, warehouseCode, safetyStock, previous: level.safetyStock };
    },
    actor,
  );
}

interface Quarantine {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly lotCode: string;
  readonly quarantined: boolean;
  readonly reason: string;
  readonly expectedQuantity?: number;
}

/**
 * data/stock/stock-settings.ts setLotQuarantine on MariaDB: the level locked first, then the
 * lot; the level's version bumped so the cache and racing readers see the change; the outcome's
 * `available` is the guard's (below 0 when the holds now need more than is sellable).
 */
export async function setLotQuarantineOnMariadb(
  db: Db,
  pool: Pool,
  idempotencyKey: string,
  request: Quarantine,
  actor?: string,
) {
  const operation = request.quarantined ? Operation.QUARANTINE : Operation.RELEASE_QUARANTINE;
  return fencedChangeOnMariadb(
    db,
    pool,
    operation,
    idempotencyKey,
    request,
    async (tx) => {
      const { sku, warehouseCode, lotCode, quarantined, reason } = request;
      await lockLevelOnMariadb(tx, sku, warehouseCode);
      const lot = await lockLotOnMariadb(tx, sku, warehouseCode, lotCode);
      expectQuantity(request.expectedQuantity, lot.quantity, `lot ${lotCode}`);
      await tx.query(
        'UPDATE stock_lots SET quarantined = ?, quarantine_reason = ? WHERE sku = ? AND warehouse_code = ? AND lot_code = ?',
        [quarantined, quarantined ? reason : null, sku, warehouseCode, lotCode],
      );
      await tx.query(
        `UPDATE inventory_levels SET version = version + 1, updated_at = UTC_TIMESTAMP(3) WHERE sku = ? AND warehouse_code = ?`,
        [sku, warehouseCode],
      );
      const [after] = await tx.query<{ available: number }[]>(
        `SELECT ${AVAILABLE_SQL} AS available FROM inventory_levels il WHERE il.sku = ? AND il.warehouse_code = ?`,
        [sku, warehouseCode],
      );
      await recordMariadbInvalidations(tx, [sku]);
      return { sku, warehouseCode, lotCode, quantity: lot.quantity, quarantined, available: Number(after.available) };
    },
    actor,
  );
}
