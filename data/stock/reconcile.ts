/**
 * Reconciliation: checks every level against its evidence. It reports drift with the rows
 * involved and never "fixes" anything: a drift means a bug or a hand edit, and the ledger
 * is the evidence a person needs to decide what happened. On MySQL/MariaDB the checks, the
 * recorded runs and the unstarted sagas are data/mariadb/reconcile.ts's (same report).
 */
import type {
  DriftCheck,
  LevelDrift,
  ReconciliationReport,
  SagaMismatch,
  UnsettledPaymentDrift,
} from '../../domain/reports';
import type { Db } from '../db';
import { findUnstartedSagas } from '../orders/saga-starts';
import { EVENT_CHAIN_CHECKS, EVENT_CHAIN_CTE } from '../events/versions';
import { mariadbOf } from '../mariadb/db';
import {
  findDriftsOnMariadb,
  latestReconciliationOnMariadb,
  recordReconciliationOnMariadb,
  unstartedSagasOnMariadb,
} from '../mariadb/reconcile';

/**
 * Every invariant in one snapshot (a single statement): on-hand, reserved, incoming, damaged
 * and quality control = Σ ledger (each ledger row carries how it moved every bucket); reserved = Σ active holds (orders, transfer holds, flash-sale pools); incoming = Σ
 * transfers in transit; lots of lot-tracked SKUs sum to on-hand; each lot = Σ its ledger
 * rows; nothing negative, nothing held or set aside beyond on-hand (reserved + damaged +
 * quality control <= on-hand); nothing held beyond what may be sold (AVAILABLE_NEGATIVE, below).
 *
 * AVAILABLE_NEGATIVE: on_hand − reserved − safety_stock − damaged − quality_control −
 * quarantined < 0, the reserve guard's
 * formula with only the quarantined lots as unsellable. Lots past their removal date are left
 * out on purpose: they become unsellable by the clock, with no write, so a unit held while its
 * lot was sellable would otherwise turn into "drift" overnight in perfectly healthy data (the
 * hold was right when taken; confirm serves it FEFO or flags the lot, and the write-off leaves
 * held units alone). Quarantine is a write that locks the level row, so a negative caused by
 * it is either the quarantine race (a reserve that passed its guard on a stale view) or an
 * admin change made after the holds (a quarantine, a higher safety stock, a count correction):
 * in both, more is held than may be shipped and a person has to decide. Nothing held, nothing
 * to decide: a safety stock above what is on hand only makes the level unsellable (the guard
 * sells nothing), so a level with no holds is not reported.
 */
const DRIFT_SQL = `
  WITH ledger AS (
    SELECT sku, warehouse_code, SUM(on_hand_delta)::int AS on_hand, SUM(reserved_delta)::int AS reserved,
           SUM(incoming_delta)::int AS incoming, SUM(damaged_delta)::int AS damaged,
           SUM(quality_control_delta)::int AS quality_control
      FROM stock_movements GROUP BY sku, warehouse_code),
  holds AS (
    SELECT sku, warehouse_code, SUM(quantity)::int AS reserved FROM (
      SELECT l.sku, l.warehouse_code, l.quantity
        FROM reservation_lines l JOIN reservations r ON r.id = l.reservation_id
        LEFT JOIN campaigns c ON c.id = r.campaign_id
       WHERE r.status = 'RESERVED' AND (c.kind IS NULL OR c.kind = 'FLASH_SALE')
      UNION ALL
      -- A flash sale's set-aside: its unsold pool (the holds taken from it are counted above).
      -- Pre-sales hold no stock: their goods have not arrived.
      SELECT sku, warehouse_code, remaining FROM campaigns WHERE status = 'OPEN' AND kind = 'FLASH_SALE'
    ) h GROUP BY sku, warehouse_code),
  transit AS (
    SELECT sku, to_warehouse AS warehouse_code, SUM(quantity)::int AS incoming
      FROM transfers WHERE status = 'SHIPPED' GROUP BY sku, to_warehouse),
  lots AS (
    SELECT sku, warehouse_code, SUM(quantity)::int AS quantity,
           COALESCE(SUM(quantity) FILTER (WHERE quarantined AND quantity > 0), 0)::int AS quarantined
      FROM stock_lots GROUP BY sku, warehouse_code),
  lot_ledger AS (
    SELECT sku, warehouse_code, lot_code, SUM(on_hand_delta)::int AS quantity
      FROM stock_movements WHERE lot_code IS NOT NULL GROUP BY sku, warehouse_code, lot_code),
  level AS (
    SELECT il.*, p.lot_tracked,
           COALESCE(ledger.on_hand, 0) AS l_on_hand, COALESCE(ledger.reserved, 0) AS l_reserved,
           COALESCE(ledger.incoming, 0) AS l_incoming, COALESCE(ledger.damaged, 0) AS l_damaged,
           COALESCE(ledger.quality_control, 0) AS l_quality_control, COALESCE(holds.reserved, 0) AS held,
           COALESCE(transit.incoming, 0) AS in_transit, COALESCE(lots.quantity, 0) AS in_lots,
           il.on_hand - il.reserved - il.safety_stock - il.damaged - il.quality_control
             - COALESCE(lots.quarantined, 0) AS sellable_left
      FROM inventory_levels il JOIN products p USING (sku)
      LEFT JOIN ledger USING (sku, warehouse_code) LEFT JOIN holds USING (sku, warehouse_code)
      LEFT JOIN transit USING (sku, warehouse_code) LEFT JOIN lots USING (sku, warehouse_code)),${EVENT_CHAIN_CTE}
  SELECT 'ON_HAND_VS_LEDGER' AS check, sku, warehouse_code, NULL AS lot_code, on_hand AS recorded, l_on_hand AS expected FROM level WHERE on_hand <> l_on_hand
  UNION ALL SELECT 'RESERVED_VS_LEDGER', sku, warehouse_code, NULL, reserved, l_reserved FROM level WHERE reserved <> l_reserved
  UNION ALL SELECT 'INCOMING_VS_LEDGER', sku, warehouse_code, NULL, incoming, l_incoming FROM level WHERE incoming <> l_incoming
  UNION ALL SELECT 'DAMAGED_VS_LEDGER', sku, warehouse_code, NULL, damaged, l_damaged FROM level WHERE damaged <> l_damaged
  UNION ALL SELECT 'QUALITY_CONTROL_VS_LEDGER', sku, warehouse_code, NULL, quality_control, l_quality_control FROM level
             WHERE quality_control <> l_quality_control
  UNION ALL SELECT 'RESERVED_VS_HOLDS', sku, warehouse_code, NULL, reserved, held FROM level WHERE reserved <> held
  UNION ALL SELECT 'INCOMING_VS_TRANSFERS', sku, warehouse_code, NULL, incoming, in_transit FROM level WHERE incoming <> in_transit
  UNION ALL SELECT 'LOTS_VS_ON_HAND', sku, warehouse_code, NULL, in_lots, on_hand FROM level WHERE lot_tracked AND in_lots <> on_hand
  UNION ALL SELECT 'NEGATIVE', sku, warehouse_code, NULL,
                   LEAST(on_hand, reserved, incoming, damaged, quality_control, on_hand - reserved - damaged - quality_control), 0 FROM level
             WHERE on_hand < 0 OR reserved < 0 OR incoming < 0 OR damaged < 0 OR quality_control < 0
                OR reserved + damaged + quality_control > on_hand
  UNION ALL SELECT 'AVAILABLE_NEGATIVE', sku, warehouse_code, NULL, sellable_left, 0 FROM level WHERE sellable_left < 0 AND reserved > 0
  UNION ALL SELECT 'LOT_VS_LEDGER', l.sku, l.warehouse_code, l.lot_code, l.quantity, COALESCE(m.quantity, 0)
              FROM stock_lots l LEFT JOIN lot_ledger m USING (sku, warehouse_code, lot_code) WHERE l.quantity <> COALESCE(m.quantity, 0)
  UNION ALL SELECT 'NEGATIVE', sku, warehouse_code, lot_code, quantity, 0 FROM stock_lots WHERE quantity < 0${EVENT_CHAIN_CHECKS}
  ORDER BY 2, 3, 1`;

/** The drifts as of now, and how many levels were checked. Read-only. */
export async function findDrifts(db: Db): Promise<{ levelsChecked: number; drifts: LevelDrift[] }> {
  const maria = mariadbOf(db);
  if (maria) return findDriftsOnMariadb(maria);
  const [rows, levelsChecked] = await Promise.all([
    db.$queryRawUnsafe<
      {
        check: DriftCheck;
        sku: string;
        warehouse_code: string;
        lot_code: string | null;
        recorded: number;
        expected: number;
      }[]
    >(DRIFT_SQL),
    db.inventoryLevel.count(),
  ]);
  const drifts = rows.map((r) => ({
    check: r.check,
    sku: r.sku,
    warehouseCode: r.warehouse_code,
    lotCode: r.lot_code,
    recorded: Number(r.recorded),
    expected: Number(r.expected),
  }));
  return { levelsChecked, drifts };
}

/**
 * Runs a check and records it; the report is what the API, the log and the metric show.
 * `checkPayments` finds (and drives to settlement) the payments left unsettled too long.
 */
export async function reconcile(
  db: Db,
  checkPayments: () => Promise<UnsettledPaymentDrift[]> = async () => [],
  checkSagas: () => Promise<SagaMismatch[]> = async () => [],
): Promise<ReconciliationReport> {
  const { levelsChecked, drifts } = await findDrifts(db);
  const unsettledPayments = await checkPayments();
  const sagaMismatches = await checkSagas();
  const maria = mariadbOf(db);
  const unstartedSagas = maria
    ? await unstartedSagasOnMariadb(maria, 60_000, 500)
    : await findUnstartedSagas(db, 60_000, 500);
  if (maria) {
    const clean =
      drifts.length === 0 &&
      unsettledPayments.length === 0 &&
      unstartedSagas.length === 0 &&
      sagaMismatches.length === 0;
    return recordReconciliationOnMariadb(maria, {
      levelsChecked,
      clean,
      drifts,
      unsettledPayments,
      unstartedSagas,
      sagaMismatches,
    });
  }
  const run = await db.reconciliationRun.create({
    data: {
      levelsChecked,
      clean:
        drifts.length === 0 &&
        unsettledPayments.length === 0 &&
        unstartedSagas.length === 0 &&
        sagaMismatches.length === 0,
      unstartedSagas,
      sagaMismatches: sagaMismatches as unknown as object[],
      drifts: drifts as unknown as object[],
      unsettledPayments: unsettledPayments as unknown as object[],
    },
  });
  return toReport(run);
}

/** The most recent recorded run, if any. */
export async function latestReconciliation(db: Db): Promise<ReconciliationReport | undefined> {
  const maria = mariadbOf(db);
  if (maria) return latestReconciliationOnMariadb(maria);
  const run = await db.reconciliationRun.findFirst({ orderBy: { id: 'desc' } });
  return run ? toReport(run) : undefined;
}

function toReport(run: {
  id: bigint;
  startedAt: Date;
  levelsChecked: number;
  clean: boolean;
  drifts: unknown;
  unsettledPayments: unknown;
  unstartedSagas: unknown;
  sagaMismatches: unknown;
}): ReconciliationReport {
  return {
    sagaMismatches: run.sagaMismatches as SagaMismatch[],
    unstartedSagas: run.unstartedSagas as ReconciliationReport['unstartedSagas'],
    unsettledPayments: run.unsettledPayments as UnsettledPaymentDrift[],
    runId: run.id.toString(),
    startedAt: run.startedAt.toISOString(),
    levelsChecked: run.levelsChecked,
    clean: run.clean,
    drifts: run.drifts as LevelDrift[],
  };
}
