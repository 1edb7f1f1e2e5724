/**
 * Perishables over time: the write-off of lots past their removal date through the ledger.
 * (Their alerts, nearing or past expiry, are data/alerts/stock-alerts.ts's.)
 */
import type { WriteOffResult } from '../../domain/reports';
import { Operation } from '../../domain/types';
import { lockLevel, lockLot } from './admin-fence';
import { inKeyLockedTx, readFence, writeFence, writeMovements, type Db } from '../db';
import { BUMP_VERSION } from './level-sql';
import { mariadbOf } from '../mariadb/db';
import { writeOffExpiredOnMariadb } from '../mariadb/stock-states';

/**
 * Writes off every lot past its removal date, one transaction per lot, fenced by
 * (run, lot): a retried activity does not write off twice. Units that holds still need (the
 * hold was taken before the lot expired) stay until the hold ends; the next run takes them.
 * So do units set aside as damaged or in quality control: the level's invariant keeps
 * reserved + damaged + quality control within on-hand.
 */
export async function writeOffExpiredLots(db: Db, runId: string): Promise<WriteOffResult> {
  const maria = mariadbOf(db);
  if (maria) return writeOffExpiredOnMariadb(db, maria, runId);
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

async function writeOffLot(
  db: Db,
  runId: string,
  { sku, warehouseCode, lotCode }: { sku: string; warehouseCode: string; lotCode: string },
) {
  const serial = `writeoff:${runId}:${sku}:${warehouseCode}:${lotCode}`;
  return inKeyLockedTx(db, serial, async (tx) => {
    const first = await readFence<{ units: number }>(tx, serial, Operation.WRITE_OFF);
    if (first) return first.units;
    const level = await lockLevel(tx, sku, warehouseCode);
    const lot = await lockLot(tx, sku, warehouseCode, lotCode);
    // Held units, and units set aside as damaged or in quality control (written off from their state), stay.
    const units = Math.max(
      0,
      Math.min(lot.quantity, level.onHand - level.reserved - level.damaged - level.qualityControl),
    );
    if (units > 0) {
      await tx.$executeRaw`
        UPDATE inventory_levels SET on_hand = on_hand - ${units}, ${BUMP_VERSION}
         WHERE sku = ${sku} AND warehouse_code = ${warehouseCode} AND on_hand - ${units} >= reserved + damaged + quality_control`;
      await tx.$executeRaw`
        UPDATE stock_lots SET quantity = quantity - ${units}
         WHERE sku = ${sku} AND warehouse_code = ${warehouseCode} AND lot_code = ${lotCode} AND quantity >= ${units}`;
      await writeMovements(tx, [
        {
          sku,
          warehouseCode,
          lotCode,
          reason: 'WRITE_OFF:EXPIRED',
          reference: serial,
          onHandDelta: -units,
          reservedDelta: 0,
        },
      ]);
    }
    await writeFence(tx, serial, Operation.WRITE_OFF, { units });
    return units;
  });
}
