/**
 * Confirmation of lot-tracked stock: the sold units leave their lots first-expiring-first-out,
 * in the same transaction as the level change, one ledger row per lot.
 */
import { lotSellable, pickFefo, sellableFirst, type ConsumedLot, type LotForPicking } from '../../domain/stock';
import type { OrderLine } from '../../domain/types';
import type { Movement, Tx } from '../db';

/** The SKUs among `skus` whose stock is tracked in lots. */
export async function lotTrackedSkus(tx: Tx, skus: readonly string[]): Promise<Set<string>> {
  const rows = await tx.product.findMany({
    where: { sku: { in: [...skus] }, lotTracked: true },
    select: { sku: true },
  });
  return new Set(rows.map((r) => r.sku));
}

/**
 * Takes a confirmed line out of its lots and returns what was taken with the ledger rows.
 * Sellable lots go first, earliest use-by first; a lot quarantined or expired after the hold
 * was taken is used only when nothing sellable is left (the sale is paid: it must be
 * deducted), and is flagged `sellable: false` for the operator.
 */
export async function consumeLots(
  tx: Tx,
  line: OrderLine,
  reference: string,
  reason: string,
): Promise<{ consumed: ConsumedLot[]; movements: Movement[] }> {
  // now(): the transaction's clock, the one the guard's unsellable_quantity used for the hold.
  const lots = await tx.$queryRaw<
    {
      lot_code: string;
      quantity: number;
      quarantined: boolean;
      remove_at: Date | null;
      expires_at: Date | null;
      now: Date;
    }[]
  >`
    SELECT lot_code, quantity, quarantined, remove_at, expires_at, now() AS now
      FROM stock_lots
     WHERE sku = ${line.sku} AND warehouse_code = ${line.warehouseCode} AND quantity > 0
     ORDER BY expires_at ASC NULLS LAST, received_at, lot_code COLLATE "C"
       FOR UPDATE`;
  const ordered: LotForPicking[] = sellableFirst(
    lots.map((l) => ({
      lotCode: l.lot_code,
      quantity: l.quantity,
      sellable: lotSellable({ quarantined: l.quarantined, removeAt: l.remove_at }, l.now),
      expiresAt: l.expires_at,
    })),
  );
  const consumed: ConsumedLot[] = [];
  const movements: Movement[] = [];
  for (const { lot, take } of pickFefo(ordered, line.quantity)) {
    await tx.$executeRaw`
      UPDATE stock_lots SET quantity = quantity - ${take}
       WHERE sku = ${line.sku} AND warehouse_code = ${line.warehouseCode} AND lot_code = ${lot.lotCode} AND quantity >= ${take}`;
    consumed.push({
      sku: line.sku,
      warehouseCode: line.warehouseCode,
      lotCode: lot.lotCode,
      quantity: take,
      expiresAt: lot.expiresAt?.toISOString() ?? null,
      sellable: lot.sellable,
    });
    const base = { sku: line.sku, warehouseCode: line.warehouseCode, reason, reference, lotCode: lot.lotCode };
    movements.push({ ...base, onHandDelta: -take, reservedDelta: -take });
  }
  return { consumed, movements };
}
