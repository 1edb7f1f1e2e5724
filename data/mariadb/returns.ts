/**
 * Returns of sold goods on MySQL/MariaDB (issue 22): data/orders/returns.ts for InnoDB, with the
 * same refusals and answer. One READ COMMITTED transaction, fenced by the return id
 * (fencedChangeOnMariadb: the slot of `admin:<returnId>`, its RETURN fence; a repeat answers
 * the first outcome, the id with another body is IDEMPOTENCY_CONFLICT, a refusal records
 * nothing). The order's holds are locked (`FOR UPDATE`, by id), so two returns of one order are
 * decided one after the other: the second reads the first's `return_lines` (READ COMMITTED,
 * after the lock wait) and may take only what was sold minus what came back.
 *
 * Each line goes where its disposition says, with its ledger row and a `return_lines` row
 * (append-only for the service user). A lot-tracked SKU returns into the lot it was sold from
 * (the hold's consumed lots) through withLevelLots (mechanism 2: the level locked first, lots =
 * on hand asserted before COMMIT), refused when that lot is past its removal date.
 *
 * Lock order: the return's slot, the order's holds (by id), then each level in byte order of
 * (SKU, warehouse), then its lot — confirm takes a hold before its levels too.
 */
import type { Pool } from 'mariadb';
import { compareBytes } from '../../domain/byte-order';
import { DomainError, ErrorCode } from '../../domain/errors';
import {
  checkWithinSale,
  Disposition,
  returnDeltas,
  soleLot,
  type ReturnLineInput,
  type ReturnedLine,
  type Sale,
} from '../../domain/returns';
import { lotDates, type ConsumedLot } from '../../domain/stock';
import { Operation, ReservationStatus } from '../../domain/types';
import type { Db } from '../db';
import { fencedChangeOnMariadb, lockLevelOnMariadb, productForChangeOnMariadb } from './admin-fence';
import { withLevelLots } from './lots';
import { addToLotOnMariadb } from './stock-admin';
import { levelStateOnMariadb } from './stock-states';
import { writeMariadbMovements } from './stock-tx';
import { jsonValue, type MariadbTx } from './tx';

/** data/orders/returns.ts ReturnInput, less its id. */
interface ReturnRequest {
  readonly orderId: string;
  readonly lines: readonly ReturnLineInput[];
}

/** data/orders/returns.ts receiveReturn on MariaDB. */
export async function receiveReturnOnMariadb(
  db: Db,
  pool: Pool,
  returnId: string,
  request: ReturnRequest,
  actor?: string,
) {
  return fencedChangeOnMariadb(
    db,
    pool,
    Operation.RETURN,
    returnId,
    request,
    async (tx) => {
      const sale = await lockSale(tx, request.orderId);
      const back = await returnedBefore(tx, request.orderId);
      const lines: ReturnedLine[] = [];
      for (const line of request.lines) {
        const product = await productForChangeOnMariadb(
          tx,
          line.sku,
          sale.lots.has(line.sku) ? (line.lotCode ?? soleLot(sale, line.sku)) : line.lotCode,
        );
        lines.push(product.lotTracked ? { ...line, lotCode: line.lotCode ?? soleLot(sale, line.sku) } : line);
      }
      checkWithinSale(sale, back, lines);
      await checkWarehouses(tx, lines);
      const ordered = lines
        .map((line, lineNo) => ({ line, lineNo }))
        .sort(
          (a, b) => compareBytes(a.line.sku, b.line.sku) || compareBytes(a.line.warehouseCode, b.line.warehouseCode),
        );
      for (const { line, lineNo } of ordered) await receiveLine(tx, returnId, request.orderId, lineNo, line, sale);
      const levels = [];
      for (const key of new Set(ordered.map(({ line }) => `${line.sku}\u0000${line.warehouseCode}`))) {
        const [sku, warehouseCode] = key.split('\u0000');
        levels.push({ sku, warehouseCode, ...(await levelStateOnMariadb(tx, sku, warehouseCode)) });
      }
      return { returnId, orderId: request.orderId, lines, levels };
    },
    actor,
  );
}

/** Locks the order's holds (by id) and reads what the confirmed ones sold; refuses an order that sold nothing. */
async function lockSale(tx: MariadbTx, orderId: string): Promise<Sale> {
  const holds = await tx.query<{ id: string; status: string; consumed_lots: unknown }[]>(
    'SELECT id, status, consumed_lots FROM reservations WHERE order_id = ? ORDER BY id FOR UPDATE',
    [orderId],
  );
  if (holds.length === 0) throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `no order ${orderId}`);
  const confirmed = holds.filter((h) => h.status === ReservationStatus.CONFIRMED);
  if (confirmed.length === 0) {
    throw new DomainError(
      ErrorCode.ORDER_NOT_CONFIRMED,
      `order ${orderId} sold nothing: only a confirmed order can be returned`,
      { statuses: [...new Set(holds.map((h) => h.status))] },
    );
  }
  const rows = await tx.query<{ sku: string; quantity: unknown }[]>(
    'SELECT sku, SUM(quantity) AS quantity FROM reservation_lines WHERE reservation_id IN (?) GROUP BY sku',
    [confirmed.map((h) => h.id)],
  );
  const lots: Sale['lots'] = new Map();
  for (const lot of confirmed.flatMap((h) =>
    h.consumed_lots == null ? [] : (jsonValue(h.consumed_lots) as ConsumedLot[]),
  )) {
    const bySku = lots.get(lot.sku) ?? new Map<string, { quantity: number; expiresAt: string | null }>();
    const seen = bySku.get(lot.lotCode);
    bySku.set(lot.lotCode, { quantity: (seen?.quantity ?? 0) + lot.quantity, expiresAt: lot.expiresAt });
    lots.set(lot.sku, bySku);
  }
  return { units: new Map(rows.map((r) => [r.sku, Number(r.quantity)])), lots };
}

/** What came back of the order before: per SKU, and per `sku\0lot` for lot-tracked ones. */
async function returnedBefore(tx: MariadbTx, orderId: string): Promise<Map<string, number>> {
  const rows = await tx.query<{ sku: string; lot_code: string | null; quantity: unknown }[]>(
    'SELECT sku, lot_code, SUM(quantity) AS quantity FROM return_lines WHERE order_id = ? GROUP BY sku, lot_code',
    [orderId],
  );
  const back = new Map<string, number>();
  const add = (key: string, n: number) => back.set(key, (back.get(key) ?? 0) + n);
  for (const r of rows) {
    add(r.sku, Number(r.quantity));
    if (r.lot_code) add(`${r.sku}\u0000${r.lot_code}`, Number(r.quantity));
  }
  return back;
}

async function checkWarehouses(tx: MariadbTx, lines: readonly ReturnedLine[]): Promise<void> {
  const codes = [...new Set(lines.map((l) => l.warehouseCode))];
  const found = await tx.query<{ code: string }[]>('SELECT code FROM warehouses WHERE code IN (?)', [codes]);
  const missing = codes.filter((c) => !found.some((w) => w.code === c));
  if (missing.length > 0) throw new DomainError(ErrorCode.UNKNOWN_WAREHOUSE, `no warehouse ${missing.join(', ')}`);
}

/** One line: into its level (and lot) as its disposition says, with its ledger row and record. */
async function receiveLine(
  tx: MariadbTx,
  returnId: string,
  orderId: string,
  lineNo: number,
  line: ReturnedLine,
  sale: Sale,
): Promise<void> {
  const { sku, warehouseCode, quantity, disposition, lotCode } = line;
  const deltas = returnDeltas(disposition, quantity);
  const ledger = () =>
    writeMariadbMovements(tx, [
      {
        sku,
        warehouseCode,
        lotCode: disposition === Disposition.WRITE_OFF ? null : lotCode,
        reason: `RETURN:${disposition}`,
        reference: orderId,
        onHandDelta: deltas.onHand,
        reservedDelta: 0,
        damagedDelta: deltas.damaged,
        qualityControlDelta: deltas.qualityControl,
      },
    ]);
  if (disposition === Disposition.WRITE_OFF) await ledger();
  else {
    // Ensure the level row, X-locked from here on (as a receipt does: a plain INSERT caught at
    // 1062 would leave a shared lock, and two returns asking for X next would deadlock).
    await tx.query(
      'INSERT INTO inventory_levels (sku, warehouse_code) VALUES (?, ?) ON DUPLICATE KEY UPDATE sku = sku',
      [sku, warehouseCode],
    );
    const change = async () => {
      await lockLevelOnMariadb(tx, sku, warehouseCode);
      if (lotCode) await intoSoldLot(tx, line, lotCode, sale);
      await tx.query(
        `UPDATE inventory_levels
            SET on_hand = on_hand + ?, damaged = damaged + ?, quality_control = quality_control + ?,
                version = version + 1, updated_at = UTC_TIMESTAMP(3)
          WHERE sku = ? AND warehouse_code = ?`,
        [deltas.onHand, deltas.damaged, deltas.qualityControl, sku, warehouseCode],
      );
      await ledger();
    };
    await (lotCode ? withLevelLots(tx, sku, warehouseCode, change) : change());
  }
  await tx.query(
    `INSERT INTO return_lines (return_id, line_no, order_id, sku, warehouse_code, lot_code, quantity, disposition)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    [returnId, lineNo, orderId, sku, warehouseCode, lotCode ?? null, quantity, disposition],
  );
}

/**
 * Back into the lot it was sold from, at the receiving warehouse (created there with the lot's
 * use-by date when another warehouse sold it): refused when that lot is past its removal date,
 * which may not come back into stock. The level is locked (withLevelLots), then the lot.
 */
async function intoSoldLot(tx: MariadbTx, line: ReturnedLine, lotCode: string, sale: Sale): Promise<void> {
  const { sku, warehouseCode, quantity } = line;
  const product = await productForChangeOnMariadb(tx, sku, lotCode);
  const sold = sale.lots.get(sku)?.get(lotCode);
  const [existing] = await tx.query<{ remove_at: Date | null }[]>(
    'SELECT remove_at FROM stock_lots WHERE sku = ? AND warehouse_code = ? AND lot_code = ? FOR UPDATE',
    [sku, warehouseCode, lotCode],
  );
  const expiresAt = sold?.expiresAt ? new Date(sold.expiresAt) : null;
  const removeAt = existing ? existing.remove_at : lotDates(expiresAt, product).removeAt;
  if (removeAt && removeAt.getTime() <= Date.now()) {
    throw new DomainError(
      ErrorCode.LOT_PAST_REMOVAL,
      `lot ${lotCode} of ${sku} is past its removal date: return it as WRITE_OFF`,
      { sku, lotCode, removeAt: removeAt.toISOString() },
    );
  }
  await addToLotOnMariadb(tx, { sku, warehouseCode, lotCode, quantity, expiresAt: sold?.expiresAt ?? null }, product, {
    checkExpiry: false,
  });
}
