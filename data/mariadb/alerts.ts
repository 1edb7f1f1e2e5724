/**
 * `stock_alerts` on MySQL/MariaDB (issue 22): data/alerts/stock-alerts.ts with the same
 * contract. "Once per (kind, subject), ever" is the unique key here too: a raise is a plain
 * INSERT and the duplicate key (1062) is the answer "raised before" (docs/mysql.md mechanism
 * 4; no INSERT IGNORE, which would also swallow other errors).
 */
import type { Pool } from 'mariadb';
import { toPage, type KeyValue, type Page } from '../../domain/cursor';
import { inMariadbTx, isDuplicateKey, jsonValue, lockSerial } from './tx';

/** An alert as stored (the shape of PostgreSQL's `StockAlert` row). */
export interface MariadbAlert {
  readonly id: bigint;
  readonly kind: string;
  readonly subject: string;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly lotCode: string | null;
  readonly details: Record<string, unknown>;
  readonly createdAt: Date;
  readonly deliveredAt: Date | null;
}

/** An alert as GET /alerts shows it. */
export interface AlertView {
  readonly id: string;
  readonly kind: string;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly lotCode: string | null;
  readonly details: Record<string, unknown>;
  readonly createdAt: string;
  readonly deliveredAt: string | null;
}

type Row = {
  id: number;
  kind: string;
  subject: string;
  sku: string;
  warehouse_code: string;
  lot_code: string | null;
  details: unknown;
  created_at: Date;
  delivered_at: Date | null;
};

const COLUMNS = 'id, kind, subject, sku, warehouse_code, lot_code, details, created_at, delivered_at';

function alertOf(r: Row): MariadbAlert {
  return {
    id: BigInt(r.id),
    kind: r.kind,
    subject: r.subject,
    sku: r.sku,
    warehouseCode: r.warehouse_code,
    lotCode: r.lot_code,
    details: jsonValue(r.details) as Record<string, unknown>,
    createdAt: r.created_at,
    deliveredAt: r.delivered_at,
  };
}

/** A UTC DATETIME(3) as PostgreSQL's jsonb writes a timestamptz (ISO 8601, UTC offset). */
const iso = (column: string) => `DATE_FORMAT(${column}, '%Y-%m-%dT%H:%i:%s.%f+00:00')`;

/**
 * The lot alerts due now, each (kind, subject) once: the rows not raised yet, inserted in one
 * statement. Passes run one after another under one named lock (mechanism 1: a slot row,
 * released at COMMIT), in READ COMMITTED, so a pass that waited sees what the one before it
 * committed and inserts nothing twice. Without the lock two passes would both find a lot's row
 * missing; on MariaDB two concurrent INSERT … SELECT on the unique key then fail each other
 * (a deadlock, reported as error 1467) rather than one of them meeting the duplicate key.
 * Only this pass raises NEAR_EXPIRY and EXPIRED, so no other writer races it on those keys.
 */
export async function raiseExpiryAlertsOnMariadb(pool: Pool): Promise<number> {
  return inMariadbTx(pool, async (tx) => {
    await lockSerial(tx, 'stock_alerts:expiry');
    const result = await tx.query<{ affectedRows: number }>(
      `INSERT INTO stock_alerts (kind, subject, sku, warehouse_code, lot_code, details)
       SELECT d.kind, d.subject, d.sku, d.warehouse_code, d.lot_code, d.details
         FROM (SELECT CASE WHEN remove_at <= CURRENT_TIMESTAMP(3) THEN 'EXPIRED' ELSE 'NEAR_EXPIRY' END AS kind,
                      CONCAT(sku, '/', warehouse_code, '/', lot_code) AS subject, sku, warehouse_code, lot_code,
                      JSON_OBJECT('quantity', quantity, 'expiresAt', ${iso('expires_at')},
                                  'alertAt', ${iso('alert_at')}, 'removeAt', ${iso('remove_at')}) AS details
                 FROM stock_lots
                WHERE quantity > 0 AND (alert_at <= CURRENT_TIMESTAMP(3) OR remove_at <= CURRENT_TIMESTAMP(3))) d
        WHERE NOT EXISTS (SELECT 1 FROM stock_alerts a WHERE a.kind = d.kind AND a.subject = d.subject)`,
    );
    return result.affectedRows;
  });
}

/** Raises one alert; 1 if raised now, 0 if it was raised before. */
export async function raiseAlertOnMariadb(
  pool: Pool,
  alert: { kind: string; subject: string; sku: string; warehouseCode: string; details: object },
): Promise<number> {
  try {
    await pool.query('INSERT INTO stock_alerts (kind, subject, sku, warehouse_code, details) VALUES (?, ?, ?, ?, ?)', [
      alert.kind,
      alert.subject,
      alert.sku,
      alert.warehouseCode,
      JSON.stringify(alert.details),
    ]);
    return 1;
  } catch (err) {
    if (isDuplicateKey(err)) return 0;
    throw err;
  }
}

/** One page of alerts, newest first, after the alert `after` names (a decoded cursor). */
export async function listAlertsOnMariadb(
  pool: Pool,
  list: string,
  filter: { kind?: string; sku?: string; limit: number },
  after?: KeyValue[],
): Promise<Page<AlertView>> {
  const where: string[] = [];
  const values: unknown[] = [];
  const and = (condition: string, value: unknown) => {
    where.push(condition);
    values.push(value);
  };
  if (filter.kind !== undefined) and('kind = ?', filter.kind);
  if (filter.sku !== undefined) and('sku = ?', filter.sku);
  if (after) and('id < ?', String(after[0]));
  const rows = await pool.query<Row[]>(
    `SELECT ${COLUMNS} FROM stock_alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id DESC LIMIT ${Number(filter.limit) + 1}`,
    values,
  );
  return toPage(
    list,
    rows.map(alertOf),
    filter.limit,
    (a) => [a.id.toString()],
    (a) => ({
      id: a.id.toString(),
      kind: a.kind,
      sku: a.sku,
      warehouseCode: a.warehouseCode,
      lotCode: a.lotCode,
      details: a.details,
      createdAt: a.createdAt.toISOString(),
      deliveredAt: a.deliveredAt?.toISOString() ?? null,
    }),
  );
}

/** Alerts not yet delivered, oldest first. */
export async function pendingAlertsOnMariadb(pool: Pool, limit: number): Promise<MariadbAlert[]> {
  const rows = await pool.query<Row[]>(
    `SELECT ${COLUMNS} FROM stock_alerts WHERE delivered_at IS NULL ORDER BY id LIMIT ${Number(limit)}`,
  );
  return rows.map(alertOf);
}

/** Marks an alert delivered, once (the guarded UPDATE: a second mark changes nothing). */
export async function markAlertDeliveredOnMariadb(pool: Pool, id: bigint): Promise<void> {
  await pool.query(
    'UPDATE stock_alerts SET delivered_at = CURRENT_TIMESTAMP(3) WHERE id = ? AND delivered_at IS NULL',
    [id.toString()],
  );
}

/** Alerts per kind: raised ever, and not yet pushed to the alert webhook. */
export async function countAlertsByKindOnMariadb(
  pool: Pool,
): Promise<{ kind: string; raised: number; undelivered: number }[]> {
  const rows = await pool.query<{ kind: string; raised: number; undelivered: number }[]>(
    `SELECT kind, COUNT(*) AS raised, CAST(SUM(delivered_at IS NULL) AS SIGNED) AS undelivered
       FROM stock_alerts GROUP BY kind ORDER BY kind`,
  );
  return rows.map((r) => ({ kind: r.kind, raised: Number(r.raised), undelivered: Number(r.undelivered) }));
}
