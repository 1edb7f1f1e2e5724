/**
 * Perishables over time: alerts for lots nearing or past expiry (one per lot and kind, ever),
 * and the write-off of lots past their removal date through the ledger.
 */
import type { WriteOffResult } from '../../domain/reports';
import { Operation } from '../../domain/types';
import { lockLevel, lockLot } from './admin-fence';
import { inKeyLockedTx, readFence, writeFence, writeMovements, type Db } from '../db';
import { BUMP_VERSION } from './level-sql';

/** Kinds of stock alerts (CHECK-constrained). */
export const AlertKind = {
  NEAR_EXPIRY: 'NEAR_EXPIRY',
  EXPIRED: 'EXPIRED',
  TRANSFER_OVERDUE: 'TRANSFER_OVERDUE',
  /** An order saga still running past its hold's expiry + the sweeper's grace. */
  SAGA_PAST_EXPIRY: 'SAGA_PAST_EXPIRY',
  /** The sweeper's release of an expired hold refused for good by PostgreSQL (a data error). */
  RELEASE_FAILED: 'RELEASE_FAILED',
  /** A payment still PENDING past PAYMENT_SETTLE_MINUTES (use-cases/settle-stale-payments.ts). */
  PAYMENT_UNSETTLED: 'PAYMENT_UNSETTLED',
  /** A signed payment for an order PostgreSQL never knew: kept, settled REFUND_REQUIRED (UNKNOWN_ORDER). */
  PAYMENT_UNKNOWN_ORDER: 'PAYMENT_UNKNOWN_ORDER',
  /** A running order saga whose state disagrees with its payments in PostgreSQL (reconciliation). */
  SAGA_PAYMENT_MISMATCH: 'SAGA_PAYMENT_MISMATCH',
} as const;
export type AlertKind = (typeof AlertKind)[keyof typeof AlertKind];

/**
 * Raises the alerts due now. The unique (kind, subject) index makes "never twice" a fact of
 * the database: a second run, or two runs at once, insert nothing new. A lot already past
 * removal gets EXPIRED only (NEAR_EXPIRY would be news nobody can act on).
 */
export async function raiseExpiryAlerts(db: Db): Promise<number> {
  return db.$executeRaw`
    INSERT INTO stock_alerts (kind, subject, sku, warehouse_code, lot_code, details)
    SELECT CASE WHEN remove_at <= now() THEN 'EXPIRED' ELSE 'NEAR_EXPIRY' END,
           sku || '/' || warehouse_code || '/' || lot_code, sku, warehouse_code, lot_code,
           jsonb_build_object('quantity', quantity, 'expiresAt', expires_at, 'alertAt', alert_at, 'removeAt', remove_at)
      FROM stock_lots
     WHERE quantity > 0 AND (alert_at <= now() OR remove_at <= now())
    ON CONFLICT (kind, subject) DO NOTHING`;
}

/** Raises one alert for a subject that is not a lot (an overdue transfer, a hold); once, ever. 1 if raised now. */
export async function raiseAlert(db: Db, alert: { kind: AlertKind; subject: string; sku: string; warehouseCode: string; details: object }): Promise<number> {
  return (await db.stockAlert.createMany({ data: [{ ...alert }], skipDuplicates: true })).count;
}

/** Alerts, newest first. */
export async function listAlerts(db: Db, filter: { kind?: AlertKind; sku?: string; limit: number }) {
  const rows = await db.stockAlert.findMany({
    where: { kind: filter.kind, sku: filter.sku },
    orderBy: { id: 'desc' },
    take: filter.limit,
  });
  return rows.map((a) => ({
    id: a.id.toString(),
    kind: a.kind,
    sku: a.sku,
    warehouseCode: a.warehouseCode,
    lotCode: a.lotCode,
    details: a.details as Record<string, unknown>,
    createdAt: a.createdAt.toISOString(),
    deliveredAt: a.deliveredAt?.toISOString() ?? null,
  }));
}

/**
 * Writes off every lot past its removal date, one transaction per lot, fenced by
 * (run, lot): a retried activity does not write off twice. Units that holds still need (the
 * hold was taken before the lot expired) stay until the hold ends; the next run takes them.
 */
export async function writeOffExpiredLots(db: Db, runId: string): Promise<WriteOffResult> {
  const due = await db.stockLot.findMany({
    where: { quantity: { gt: 0 }, removeAt: { lte: new Date() } },
    select: { sku: true, warehouseCode: true, lotCode: true },
    orderBy: [{ sku: 'asc' }, { warehouseCode: 'asc' }, { lotCode: 'asc' }],
  });
  let lots = 0;
  let units = 0;
  for (const lot of due) {
    const taken = await writeOffLot(db, runId, lot);
    if (taken > 0) [lots, units] = [lots + 1, units + taken];
  }
  return { lots, units };
}

async function writeOffLot(db: Db, runId: string, { sku, warehouseCode, lotCode }: { sku: string; warehouseCode: string; lotCode: string }) {
  const serial = `writeoff:${runId}:${sku}:${warehouseCode}:${lotCode}`;
  return inKeyLockedTx(db, serial, async (tx) => {
    const first = await readFence<{ units: number }>(tx, serial, Operation.WRITE_OFF);
    if (first) return first.units;
    const level = await lockLevel(tx, sku, warehouseCode);
    const lot = await lockLot(tx, sku, warehouseCode, lotCode);
    const units = Math.max(0, Math.min(lot.quantity, level.onHand - level.reserved));
    if (units > 0) {
      await tx.$executeRaw`
        UPDATE inventory_levels SET on_hand = on_hand - ${units}, ${BUMP_VERSION}
         WHERE sku = ${sku} AND warehouse_code = ${warehouseCode} AND on_hand - ${units} >= reserved`;
      await tx.$executeRaw`
        UPDATE stock_lots SET quantity = quantity - ${units}
         WHERE sku = ${sku} AND warehouse_code = ${warehouseCode} AND lot_code = ${lotCode} AND quantity >= ${units}`;
      await writeMovements(tx, [{ sku, warehouseCode, lotCode, reason: 'WRITE_OFF:EXPIRED', reference: serial, onHandDelta: -units, reservedDelta: 0 }]);
    }
    await writeFence(tx, serial, Operation.WRITE_OFF, { units });
    return units;
  });
}
