/**
 * Giving held units back, shared by the release step and campaigns, with its ledger rows in
 * the caller's transaction. Callers pass lines already merged and sorted (lock order).
 */
import type { OrderLine } from '../../domain/types';
import { writeMovements, type Tx } from './db';

/** Gives held units back to available stock: reserved −q per line. */
export async function releaseLevelHolds(tx: Tx, reference: string, lines: readonly OrderLine[]): Promise<void> {
  for (const line of lines) {
    await tx.$executeRaw`
      UPDATE inventory_levels
         SET reserved = reserved - ${line.quantity}, version = version + 1, updated_at = now()
       WHERE sku = ${line.sku} AND warehouse_code = ${line.warehouseCode}`;
  }
  await writeMovements(
    tx,
    lines.map((l) => ({ sku: l.sku, warehouseCode: l.warehouseCode, reason: 'RELEASE', reference, onHandDelta: 0, reservedDelta: -l.quantity })),
  );
}
