/**
 * Reconciliation on MySQL/MariaDB (issue 22): `findDriftsOnMariadb` and the recorded runs are
 * data/stock/reconcile.ts's contract on this store; `mariadbDrifts` is the quick check the
 * MariaDB suites run after each test. Each row returned is a drift; a clean store returns none.
 * Read in one REPEATABLE READ snapshot (MySQL's consistent read), so the levels, the ledger
 * and the holds are compared as of one moment.
 */
import type { Pool } from 'mariadb';
import type {
  DriftCheck,
  LevelDrift,
  ReconciliationReport,
  SagaMismatch,
  UnsettledPaymentDrift,
} from '../../domain/reports';
import { jsonValue } from './tx';

/** One broken invariant: which, and on what. */
export interface MariadbDrift {
  readonly kind: 'LEDGER_VS_LEVEL' | 'POOL_VS_HOLDS' | 'USER_COUNT_VS_HOLDS';
  readonly subject: string;
}

const CHECKS = `
SELECT 'LEDGER_VS_LEVEL' AS kind, CONCAT(il.sku, '@', il.warehouse_code) AS subject
  FROM inventory_levels il
  LEFT JOIN (SELECT sku, warehouse_code, SUM(on_hand_delta) AS oh, SUM(reserved_delta) AS r
               FROM stock_movements GROUP BY sku, warehouse_code) m
    ON m.sku = il.sku AND m.warehouse_code = il.warehouse_code
 WHERE il.on_hand <> COALESCE(m.oh, 0) OR il.reserved <> COALESCE(m.r, 0)
UNION ALL
-- An open flash sale's quota is its pool plus the holds taken from it; once ended, its pool
-- went back to the level (endCampaign) and later releases go there too, so only open ones.
SELECT 'POOL_VS_HOLDS', c.id
  FROM campaigns c
 WHERE c.kind = 'FLASH_SALE' AND c.status = 'OPEN' AND c.quota <> c.remaining + (
   SELECT COALESCE(SUM(rl.quantity), 0) FROM reservations r JOIN reservation_lines rl ON rl.reservation_id = r.id
    WHERE r.campaign_id = c.id AND r.status IN ('RESERVED', 'CONFIRMED', 'BACKORDERED', 'REFUND_REQUIRED'))
UNION ALL
-- A user's count is every unit taken from the campaign and not given back: held, sold, or (a
-- pre-sale's) paid and awaiting or refused the goods — BACKORDERED and REFUND_REQUIRED keep theirs.
SELECT 'USER_COUNT_VS_HOLDS', CONCAT(u.campaign_id, '/', u.user_id)
  FROM campaign_user_counts u
 WHERE u.quantity <> (
   SELECT COALESCE(SUM(rl.quantity), 0) FROM reservations r JOIN reservation_lines rl ON rl.reservation_id = r.id
    WHERE r.campaign_id = u.campaign_id AND r.user_id = u.user_id AND r.status IN ('RESERVED', 'CONFIRMED', 'BACKORDERED', 'REFUND_REQUIRED'))`;

/** Every drift of the store now. */
export async function mariadbDrifts(pool: Pool): Promise<MariadbDrift[]> {
  const conn = await pool.getConnection();
  try {
    await conn.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    await conn.beginTransaction();
    const rows = await conn.query<MariadbDrift[]>(CHECKS);
    await conn.commit();
    return rows.map((r) => ({ kind: r.kind, subject: r.subject }));
  } finally {
    await conn.release();
  }
}

/**
 * PostgreSQL's reconciliation (data/stock/reconcile.ts) on MySQL/MariaDB: every drift check that
 * has a meaning on this store, as `LevelDrift` rows. The same invariants as there: the level's
 * buckets = Σ ledger; reserved = Σ active holds + open flash-sale pools; incoming = Σ transfers in
 * transit (only once a `transfers` table exists here); lot-tracked levels' lots sum to on-hand,
 * each lot = Σ its ledger rows; nothing negative; nothing held beyond what may be sold
 * (AVAILABLE_NEGATIVE, with PostgreSQL's reasoning: only quarantined lots count as unsellable).
 * Two more that the MariaDB hold batch makes checkable: an open flash sale's quota = its pool + the
 * units held or sold from it (POOL_VS_HOLDS; once ended, its pool went back to the level), and
 * each user's count = their holds (USER_COUNT_VS_HOLDS, the per-user limit's evidence).
 * EVENTS_VS_VERSIONS (migration 0080_events): each level's stock.changed chain has no break
 * (fromVersion = the previous toVersion) and ends at the level's version; judged from the first
 * remaining event, so retention keeps it valid.
 * MySQL has no `FILTER`: conditional sums are `SUM(CASE …)`; `check` is a reserved word.
 */
function driftSql(withTransfers: boolean): string {
  return `
  WITH ledger AS (
    SELECT sku, warehouse_code, SUM(on_hand_delta) AS on_hand, SUM(reserved_delta) AS reserved,
           SUM(incoming_delta) AS incoming, SUM(damaged_delta) AS damaged, SUM(quality_control_delta) AS quality_control
      FROM stock_movements GROUP BY sku, warehouse_code),
  holds AS (
    SELECT sku, warehouse_code, SUM(quantity) AS reserved FROM (
      SELECT l.sku, l.warehouse_code, l.quantity
        FROM reservation_lines l JOIN reservations r ON r.id = l.reservation_id
        LEFT JOIN campaigns c ON c.id = r.campaign_id
       WHERE r.status = 'RESERVED' AND (c.kind IS NULL OR c.kind = 'FLASH_SALE')
      UNION ALL
      SELECT sku, warehouse_code, remaining FROM campaigns WHERE status = 'OPEN' AND kind = 'FLASH_SALE'
    ) h GROUP BY sku, warehouse_code),
  transit AS (
    ${
      withTransfers
        ? `SELECT sku, to_warehouse AS warehouse_code, SUM(quantity) AS incoming
      FROM transfers WHERE status = 'SHIPPED' GROUP BY sku, to_warehouse`
        : `SELECT NULL AS sku, NULL AS warehouse_code, 0 AS incoming FROM DUAL WHERE FALSE`
    }),
  lots AS (
    SELECT sku, warehouse_code, SUM(quantity) AS quantity,
           SUM(CASE WHEN quarantined AND quantity > 0 THEN quantity ELSE 0 END) AS quarantined
      FROM stock_lots GROUP BY sku, warehouse_code),
  lot_ledger AS (
    SELECT sku, warehouse_code, lot_code, SUM(on_hand_delta) AS quantity
      FROM stock_movements WHERE lot_code IS NOT NULL GROUP BY sku, warehouse_code, lot_code),
  level AS (
    SELECT il.sku, il.warehouse_code, il.on_hand, il.reserved, il.incoming, il.damaged, il.quality_control, p.lot_tracked,
           COALESCE(ledger.on_hand, 0) AS l_on_hand, COALESCE(ledger.reserved, 0) AS l_reserved,
           COALESCE(ledger.incoming, 0) AS l_incoming, COALESCE(ledger.damaged, 0) AS l_damaged,
           COALESCE(ledger.quality_control, 0) AS l_quality_control, COALESCE(holds.reserved, 0) AS held,
           COALESCE(transit.incoming, 0) AS in_transit, COALESCE(lots.quantity, 0) AS in_lots,
           il.on_hand - il.reserved - il.safety_stock - il.damaged - il.quality_control
             - COALESCE(lots.quarantined, 0) AS sellable_left
      FROM inventory_levels il JOIN products p ON p.sku = il.sku
      LEFT JOIN ledger ON ledger.sku = il.sku AND ledger.warehouse_code = il.warehouse_code
      LEFT JOIN holds ON holds.sku = il.sku AND holds.warehouse_code = il.warehouse_code
      LEFT JOIN transit ON transit.sku = il.sku AND transit.warehouse_code = il.warehouse_code
      LEFT JOIN lots ON lots.sku = il.sku AND lots.warehouse_code = il.warehouse_code),
  sold AS (
    SELECT r.campaign_id, r.user_id, SUM(rl.quantity) AS quantity
      FROM reservations r JOIN reservation_lines rl ON rl.reservation_id = r.id
     WHERE r.campaign_id IS NOT NULL AND r.status IN ('RESERVED', 'CONFIRMED', 'BACKORDERED', 'REFUND_REQUIRED') GROUP BY r.campaign_id, r.user_id),
  event_chain AS (
    SELECT sku, warehouse_code, MAX(t) AS last_to, SUM(CASE WHEN f <> prev_t THEN 1 ELSE 0 END) AS breaks
      FROM (SELECT sku, warehouse_code, f, t, LAG(t) OVER (PARTITION BY sku, warehouse_code ORDER BY f) AS prev_t
              FROM (SELECT sku, warehouse_code, CAST(JSON_VALUE(data, '$.fromVersion') AS SIGNED) AS f,
                           CAST(JSON_VALUE(data, '$.toVersion') AS SIGNED) AS t
                      FROM event_outbox WHERE type = 'stock.changed') v) e
     GROUP BY sku, warehouse_code)
  SELECT 'ON_HAND_VS_LEDGER' AS chk, sku, warehouse_code, NULL AS lot_code, NULL AS subject, on_hand AS recorded, l_on_hand AS expected
    FROM level WHERE on_hand <> l_on_hand
  UNION ALL SELECT 'RESERVED_VS_LEDGER', sku, warehouse_code, NULL, NULL, reserved, l_reserved FROM level WHERE reserved <> l_reserved
  UNION ALL SELECT 'INCOMING_VS_LEDGER', sku, warehouse_code, NULL, NULL, incoming, l_incoming FROM level WHERE incoming <> l_incoming
  UNION ALL SELECT 'DAMAGED_VS_LEDGER', sku, warehouse_code, NULL, NULL, damaged, l_damaged FROM level WHERE damaged <> l_damaged
  UNION ALL SELECT 'QUALITY_CONTROL_VS_LEDGER', sku, warehouse_code, NULL, NULL, quality_control, l_quality_control FROM level
             WHERE quality_control <> l_quality_control
  UNION ALL SELECT 'RESERVED_VS_HOLDS', sku, warehouse_code, NULL, NULL, reserved, held FROM level WHERE reserved <> held
  UNION ALL SELECT 'INCOMING_VS_TRANSFERS', sku, warehouse_code, NULL, NULL, incoming, in_transit FROM level WHERE incoming <> in_transit
  UNION ALL SELECT 'LOTS_VS_ON_HAND', sku, warehouse_code, NULL, NULL, in_lots, on_hand FROM level WHERE lot_tracked AND in_lots <> on_hand
  UNION ALL SELECT 'NEGATIVE', sku, warehouse_code, NULL, NULL,
                   LEAST(on_hand, reserved, incoming, damaged, quality_control, on_hand - reserved - damaged - quality_control), 0 FROM level
             WHERE on_hand < 0 OR reserved < 0 OR incoming < 0 OR damaged < 0 OR quality_control < 0
                OR reserved + damaged + quality_control > on_hand
  UNION ALL SELECT 'AVAILABLE_NEGATIVE', sku, warehouse_code, NULL, NULL, sellable_left, 0 FROM level WHERE sellable_left < 0 AND reserved > 0
  UNION ALL SELECT 'LOT_VS_LEDGER', l.sku, l.warehouse_code, l.lot_code, NULL, l.quantity, COALESCE(m.quantity, 0)
              FROM stock_lots l LEFT JOIN lot_ledger m ON m.sku = l.sku AND m.warehouse_code = l.warehouse_code AND m.lot_code = l.lot_code
             WHERE l.quantity <> COALESCE(m.quantity, 0)
  UNION ALL SELECT 'NEGATIVE', sku, warehouse_code, lot_code, NULL, quantity, 0 FROM stock_lots WHERE quantity < 0
  UNION ALL SELECT 'POOL_VS_HOLDS', c.sku, c.warehouse_code, NULL, c.id, c.quota, c.remaining + COALESCE(SUM(s.quantity), 0)
              FROM campaigns c LEFT JOIN sold s ON s.campaign_id = c.id
             WHERE c.kind = 'FLASH_SALE' AND c.status = 'OPEN' GROUP BY c.id, c.sku, c.warehouse_code, c.quota, c.remaining
            HAVING c.quota <> c.remaining + COALESCE(SUM(s.quantity), 0)
  UNION ALL SELECT 'USER_COUNT_VS_HOLDS', c.sku, c.warehouse_code, NULL, CONCAT(u.campaign_id, '/', u.user_id), u.quantity,
                   COALESCE(s.quantity, 0)
              FROM campaign_user_counts u JOIN campaigns c ON c.id = u.campaign_id
              LEFT JOIN sold s ON s.campaign_id = u.campaign_id AND s.user_id = u.user_id
             WHERE u.quantity <> COALESCE(s.quantity, 0)
  UNION ALL SELECT 'EVENTS_VS_VERSIONS', il.sku, il.warehouse_code, NULL, NULL, il.version, ec.last_to
              FROM inventory_levels il JOIN event_chain ec ON ec.sku = il.sku AND ec.warehouse_code = il.warehouse_code
             WHERE il.version <> ec.last_to
  UNION ALL SELECT 'EVENTS_VS_VERSIONS', sku, warehouse_code, NULL, NULL, breaks, 0 FROM event_chain WHERE breaks > 0
  ORDER BY 2, 3, 1, 5`;
}

/** The drifts as of now, and how many levels were checked, read in one REPEATABLE READ snapshot. */
export async function findDriftsOnMariadb(pool: Pool): Promise<{ levelsChecked: number; drifts: LevelDrift[] }> {
  const conn = await pool.getConnection();
  try {
    await conn.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    await conn.beginTransaction();
    try {
      // Whether the store has transfers: migration 0070_transfers brings the table (a store
      // migrated before it has none in transit).
      const [{ transfers }] = await conn.query<{ transfers: number }[]>(
        `SELECT COUNT(*) AS transfers FROM information_schema.tables
          WHERE table_schema = DATABASE() AND table_name = 'transfers'`,
      );
      const rows = await conn.query<
        {
          chk: DriftCheck;
          sku: string;
          warehouse_code: string;
          lot_code: string | null;
          subject: string | null;
          recorded: number | string;
          expected: number | string;
        }[]
      >(driftSql(Number(transfers) > 0));
      const [{ levels }] = await conn.query<{ levels: number }[]>('SELECT COUNT(*) AS levels FROM inventory_levels');
      await conn.commit();
      const drifts = rows.map((r) => ({
        check: r.chk,
        sku: r.sku,
        warehouseCode: r.warehouse_code,
        lotCode: r.lot_code,
        ...(r.subject === null ? {} : { subject: r.subject }),
        recorded: Number(r.recorded),
        expected: Number(r.expected),
      }));
      return { levelsChecked: Number(levels), drifts };
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    }
  } finally {
    await conn.release();
  }
}

/** Holds whose saga had not started `olderThanMs` after the hold committed (saga_starts not started). */
export async function unstartedSagasOnMariadb(
  pool: Pool,
  olderThanMs: number,
  limit: number,
): Promise<{ orderId: string; createdAt: string }[]> {
  const rows = await pool.query<{ order_id: string; created_at: Date }[]>(
    `SELECT order_id, created_at FROM saga_starts
      WHERE started_at IS NULL AND created_at < CURRENT_TIMESTAMP(3) - INTERVAL ? MICROSECOND
      ORDER BY created_at LIMIT ${Number(limit)}`,
    [olderThanMs * 1000],
  );
  return rows.map((r) => ({ orderId: r.order_id, createdAt: r.created_at.toISOString() }));
}

type RunRow = {
  id: number;
  started_at: Date;
  levels_checked: number;
  clean: number | boolean;
  drifts: unknown;
  unsettled_payments: unknown;
  unstarted_sagas: unknown;
  saga_mismatches: unknown;
};

function toReport(run: RunRow): ReconciliationReport {
  return {
    sagaMismatches: jsonValue(run.saga_mismatches) as SagaMismatch[],
    unstartedSagas: jsonValue(run.unstarted_sagas) as ReconciliationReport['unstartedSagas'],
    unsettledPayments: jsonValue(run.unsettled_payments) as UnsettledPaymentDrift[],
    runId: String(run.id),
    startedAt: run.started_at.toISOString(),
    levelsChecked: Number(run.levels_checked),
    clean: Boolean(run.clean),
    drifts: jsonValue(run.drifts) as LevelDrift[],
  };
}

const RUN_COLUMNS =
  'id, started_at, levels_checked, clean, drifts, unsettled_payments, unstarted_sagas, saga_mismatches';

/** Records one run (its own autocommit INSERT) and answers it as stored. */
export async function recordReconciliationOnMariadb(
  pool: Pool,
  run: Omit<ReconciliationReport, 'runId' | 'startedAt'>,
): Promise<ReconciliationReport> {
  const inserted = await pool.query<{ insertId: number }>(
    `INSERT INTO reconciliation_runs (levels_checked, clean, drifts, unsettled_payments, unstarted_sagas, saga_mismatches)
     VALUES (?, ?, ?, ?, ?, ?)`,
    [
      run.levelsChecked,
      run.clean,
      JSON.stringify(run.drifts),
      JSON.stringify(run.unsettledPayments),
      JSON.stringify(run.unstartedSagas),
      JSON.stringify(run.sagaMismatches),
    ],
  );
  const [row] = await pool.query<RunRow[]>(`SELECT ${RUN_COLUMNS} FROM reconciliation_runs WHERE id = ?`, [
    inserted.insertId,
  ]);
  return toReport(row!);
}

/** The most recent recorded run, if any. */
export async function latestReconciliationOnMariadb(pool: Pool): Promise<ReconciliationReport | undefined> {
  const [row] = await pool.query<RunRow[]>(`SELECT ${RUN_COLUMNS} FROM reconciliation_runs ORDER BY id DESC LIMIT 1`);
  return row ? toReport(row) : undefined;
}
