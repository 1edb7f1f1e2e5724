/**
 * Giving held units back, shared by the release step and campaigns, with its ledger rows in
 * the caller's transaction. Callers pass lines already merged and sorted (lock order).
 */
import type { OrderLine } from '../../domain/types';
import { writeMovements, type Tx } from '../db';
import { BUMP_VERSION } from './level-sql';

/** Gives held units back to available stock: reserved −q per line. */
export async function releaseLevelHolds(tx: Tx, reference: string, lines: readonly OrderLine[]): Promise<void> {
  for (const line of lines) {
    await tx.$executeRaw`
      UPDATE inventory_levels
         SET reserved = reserved - ${line.quantity}, ${BUMP_VERSION}
       WHERE sku = ${line.sku} AND warehouse_code = ${line.warehouseCode}`;
  }
  await writeMovements(
    tx,
    lines.map((l) => ({
      sku: l.sku,
      warehouseCode: l.warehouseCode,
      reason: 'RELEASE',
      reference,
      onHandDelta: 0,
      reservedDelta: -l.quantity,
    })),
  );
}
