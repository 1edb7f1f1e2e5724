/**
 * Returns of sold goods (POST /admin/returns), all in one transaction: the order's confirmed
 * holds are locked (two returns of one order are decided one after the other), each SKU may
 * come back at most as often as it was sold minus what came back before (any warehouse may
 * receive it), each line goes where its disposition says (domain/returns.ts) with a ledger row
 * (reason `RETURN:<disposition>`, reference the order id) and a `return_lines` row. Lot-tracked
 * SKUs return into the lot they were sold from (the reservation's consumed lots), refused when
 * that lot is past its removal date (write it off instead). Idempotent by the return id.
 *
 * Lock order: the return's advisory lock, the order's confirmed reservations (by id), then the
 * levels in byte order, then their lots: confirm takes a reservation before its levels too.
 */
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
import { writeMovements, type Db, type Tx } from '../db';
import { mariadbOf } from '../mariadb/db';
import { receiveReturnOnMariadb } from '../mariadb/returns';
import { fencedChange, lockLevel, productForChange } from '../stock/admin-fence';
import { BUMP_VERSION } from '../stock/level-sql';
import { addToLot } from '../stock/stock-admin';
import { levelState, type LevelState } from '../stock/stock-states';

export interface ReturnInput {
  readonly returnId: string;
  readonly orderId: string;
  readonly lines: readonly ReturnLineInput[];
}

export type { ReturnedLine } from '../../domain/returns';

export interface ReturnOutcome {
  readonly returnId: string;
  readonly orderId: string;
  readonly lines: ReturnedLine[];
  /** The levels the return changed, after it. */
  readonly levels: (LevelState & { sku: string; warehouseCode: string })[];
}

/** Receives a return; see the module comment. */
export async function receiveReturn(
  db: Db,
  { returnId, ...request }: ReturnInput,
  actor?: string,
): Promise<ReturnOutcome & { replayed: boolean }> {
  const maria = mariadbOf(db);
  if (maria) return receiveReturnOnMariadb(db, maria, returnId, request, actor);
  return fencedChange(
    db,
    Operation.RETURN,
    returnId,
    request,
    async (tx) => {
      const sale = await lockSale(tx, request.orderId);
      const back = await returnedBefore(tx, request.orderId);
      const lines: ReturnedLine[] = [];
      for (const line of request.lines) {
        const product = await productForChange(
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
        levels.push({ sku, warehouseCode, ...(await levelState(tx, sku, warehouseCode)) });
      }
      return { returnId, orderId: request.orderId, lines, levels };
    },
    actor,
  );
}

/** Locks the order's confirmed holds and reads what they sold; refuses an order that sold nothing. */
async function lockSale(tx: Tx, orderId: string): Promise<Sale> {
  const holds = await tx.$queryRaw<{ id: string; status: string; consumed_lots: ConsumedLot[] | null }[]>`
    SELECT id, status, consumed_lots FROM reservations WHERE order_id = ${orderId} ORDER BY id COLLATE "C" FOR UPDATE`;
  if (holds.length === 0) throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `no order ${orderId}`);
  const confirmed = holds.filter((h) => h.status === ReservationStatus.CONFIRMED);
  if (confirmed.length === 0) {
    throw new DomainError(
      ErrorCode.ORDER_NOT_CONFIRMED,
      `order ${orderId} sold nothing: only a confirmed order can be returned`,
      {
        statuses: [...new Set(holds.map((h) => h.status))],
      },
    );
  }
  const rows = await tx.$queryRaw<{ sku: string; quantity: number }[]>`
    SELECT sku, SUM(quantity)::int AS quantity FROM reservation_lines
     WHERE reservation_id = ANY(${confirmed.map((h) => h.id)}::text[]) GROUP BY sku`;
  const lots: Sale['lots'] = new Map();
  for (const lot of confirmed.flatMap((h) => h.consumed_lots ?? [])) {
    const bySku = lots.get(lot.sku) ?? new Map<string, { quantity: number; expiresAt: string | null }>();
    const seen = bySku.get(lot.lotCode);
    bySku.set(lot.lotCode, { quantity: (seen?.quantity ?? 0) + lot.quantity, expiresAt: lot.expiresAt });
    lots.set(lot.sku, bySku);
  }
  return { units: new Map(rows.map((r) => [r.sku, r.quantity])), lots };
}

/** What came back of the order before: per SKU, and per `sku\0lot` for lot-tracked ones. */
async function returnedBefore(tx: Tx, orderId: string): Promise<Map<string, number>> {
  const rows = await tx.$queryRaw<{ sku: string; lot_code: string | null; quantity: number }[]>`
    SELECT sku, lot_code, SUM(quantity)::int AS quantity FROM return_lines WHERE order_id = ${orderId} GROUP BY sku, lot_code`;
  const back = new Map<string, number>();
  const add = (key: string, n: number) => back.set(key, (back.get(key) ?? 0) + n);
  for (const r of rows) {
    add(r.sku, r.quantity);
    if (r.lot_code) add(`${r.sku}\u0000${r.lot_code}`, r.quantity);
  }
  return back;
}

async function checkWarehouses(tx: Tx, lines: readonly ReturnedLine[]): Promise<void> {
  const codes = [...new Set(lines.map((l) => l.warehouseCode))];
  const found = await tx.warehouse.findMany({ where: { code: { in: codes } }, select: { code: true } });
  const missing = codes.filter((c) => !found.some((w) => w.code === c));
  if (missing.length > 0) throw new DomainError(ErrorCode.UNKNOWN_WAREHOUSE, `no warehouse ${missing.join(', ')}`);
}

/** One line: into its level (and lot) as its disposition says, with its ledger row and record. */
async function receiveLine(
  tx: Tx,
  returnId: string,
  orderId: string,
  lineNo: number,
  line: ReturnedLine,
  sale: Sale,
): Promise<void> {
  const { sku, warehouseCode, quantity, disposition, lotCode } = line;
  const deltas = returnDeltas(disposition, quantity);
  if (disposition !== Disposition.WRITE_OFF) {
    await tx.$executeRaw`
      INSERT INTO inventory_levels (sku, warehouse_code) VALUES (${sku}, ${warehouseCode})
      ON CONFLICT (sku, warehouse_code) DO NOTHING`;
    await lockLevel(tx, sku, warehouseCode);
    if (lotCode) await intoSoldLot(tx, line, lotCode, sale);
    await tx.$executeRaw`
      UPDATE inventory_levels
         SET on_hand = on_hand + ${deltas.onHand}, damaged = damaged + ${deltas.damaged},
             quality_control = quality_control + ${deltas.qualityControl}, ${BUMP_VERSION}
       WHERE sku = ${sku} AND warehouse_code = ${warehouseCode}`;
  }
  await writeMovements(tx, [
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
  await tx.$executeRaw`
    INSERT INTO return_lines (return_id, line_no, order_id, sku, warehouse_code, lot_code, quantity, disposition)
    VALUES (${returnId}, ${lineNo}, ${orderId}, ${sku}, ${warehouseCode}, ${lotCode ?? null}, ${quantity}, ${disposition})`;
}

/**
 * Back into the lot it was sold from, at the receiving warehouse (created there with the
 * lot's use-by date when another warehouse sold it): refused when that lot is past its
 * removal date, which may not come back into stock.
 */
async function intoSoldLot(tx: Tx, line: ReturnedLine, lotCode: string, sale: Sale): Promise<void> {
  const { sku, warehouseCode, quantity } = line;
  const product = await tx.product.findUniqueOrThrow({ where: { sku } });
  const sold = sale.lots.get(sku)?.get(lotCode);
  const existing = await tx.$queryRaw<{ remove_at: Date | null }[]>`
    SELECT remove_at FROM stock_lots WHERE sku = ${sku} AND warehouse_code = ${warehouseCode} AND lot_code = ${lotCode} FOR UPDATE`;
  const expiresAt = sold?.expiresAt ? new Date(sold.expiresAt) : null;
  const removeAt = existing[0] ? existing[0].remove_at : lotDates(expiresAt, product).removeAt;
  if (removeAt && removeAt.getTime() <= Date.now()) {
    throw new DomainError(
      ErrorCode.LOT_PAST_REMOVAL,
      `lot ${lotCode} of ${sku} is past its removal date: return it as WRITE_OFF`,
      {
        sku,
        lotCode,
        removeAt: removeAt.toISOString(),
      },
    );
  }
  await addToLot(tx, { sku, warehouseCode, lotCode, quantity, expiresAt: sold?.expiresAt ?? null }, product, {
    checkExpiry: false,
  });
}
