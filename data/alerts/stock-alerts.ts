/**
 * `stock_alerts`: every query on it. An alert is raised once per (kind, subject), ever (a
 * unique index, so two raisers at once insert one row), and pushed by the alert webhook
 * (activities/alerts.ts) until it is marked delivered. On MySQL/MariaDB each function hands over
 * to data/mariadb/alerts.ts (same contract).
 */
import { toPage, type KeyPart, type KeyValue } from '../../domain/cursor';
import type { Db } from '../db';
import { mariadbOf } from '../mariadb/db';
import {
  countAlertsByKindOnMariadb,
  listAlertsOnMariadb,
  markAlertDeliveredOnMariadb,
  pendingAlertsOnMariadb,
  raiseAlertOnMariadb,
  raiseExpiryAlertsOnMariadb,
} from '../mariadb/alerts';

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
  /** An event webhook subscription disabled: its receiver answered 410, or a delivery failed for its whole retry schedule. */
  WEBHOOK_DISABLED: 'WEBHOOK_DISABLED',
} as const;
export type AlertKind = (typeof AlertKind)[keyof typeof AlertKind];

/**
 * Raises the alerts due now. The unique (kind, subject) index makes "never twice" a fact of
 * the database: a second run, or two runs at once, insert nothing new. A lot already past
 * removal gets EXPIRED only (NEAR_EXPIRY would be news nobody can act on).
 */
export async function raiseExpiryAlerts(db: Db): Promise<number> {
  const maria = mariadbOf(db);
  if (maria) return raiseExpiryAlertsOnMariadb(maria);
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
export async function raiseAlert(
  db: Db,
  alert: { kind: AlertKind; subject: string; sku: string; warehouseCode: string; details: object },
): Promise<number> {
  const maria = mariadbOf(db);
  if (maria) return raiseAlertOnMariadb(maria, alert);
  return (await db.stockAlert.createMany({ data: [{ ...alert }], skipDuplicates: true })).count;
}

export const ALERTS_LIST = 'alerts';
export const ALERTS_KEY: readonly KeyPart[] = ['int'];

/** One page of alerts, newest first, after the alert `after` names (a decoded cursor). */
export async function listAlerts(
  db: Db,
  filter: { kind?: AlertKind; sku?: string; limit: number },
  after?: KeyValue[],
) {
  const maria = mariadbOf(db);
  if (maria) return listAlertsOnMariadb(maria, ALERTS_LIST, filter, after);
  const rows = await db.stockAlert.findMany({
    where: { kind: filter.kind, sku: filter.sku, id: after ? { lt: BigInt(after[0]!) } : undefined },
    orderBy: { id: 'desc' },
    take: filter.limit + 1,
  });
  return toPage(
    ALERTS_LIST,
    rows,
    filter.limit,
    (a) => [a.id.toString()],
    (a) => ({
      id: a.id.toString(),
      kind: a.kind,
      sku: a.sku,
      warehouseCode: a.warehouseCode,
      lotCode: a.lotCode,
      details: a.details as Record<string, unknown>,
      createdAt: a.createdAt.toISOString(),
      deliveredAt: a.deliveredAt?.toISOString() ?? null,
    }),
  );
}

/** A raised alert as the webhook pushes it. */
export type PendingAlert = Awaited<ReturnType<typeof pendingAlerts>>[number];

/** Alerts not yet delivered, oldest first. */
export function pendingAlerts(db: Db, limit: number) {
  const maria = mariadbOf(db);
  if (maria) return pendingAlertsOnMariadb(maria, limit);
  return db.stockAlert.findMany({ where: { deliveredAt: null }, orderBy: { id: 'asc' }, take: limit });
}

/** Marks an alert delivered (once: a second mark changes nothing). */
export async function markAlertDelivered(db: Db, id: bigint): Promise<void> {
  const maria = mariadbOf(db);
  if (maria) return markAlertDeliveredOnMariadb(maria, id);
  await db.stockAlert.updateMany({ where: { id, deliveredAt: null }, data: { deliveredAt: new Date() } });
}

/** Alerts per kind: raised ever, and not yet pushed to the alert webhook. */
export async function countAlertsByKind(db: Db): Promise<{ kind: string; raised: number; undelivered: number }[]> {
  const maria = mariadbOf(db);
  if (maria) return countAlertsByKindOnMariadb(maria);
  const rows = await db.$queryRaw<{ kind: string; raised: number; undelivered: number }[]>`
    SELECT kind, count(*)::int AS raised, (count(*) FILTER (WHERE delivered_at IS NULL))::int AS undelivered
      FROM stock_alerts GROUP BY kind ORDER BY kind`;
  return rows;
}
