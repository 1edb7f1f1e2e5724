/**
 * Receipts into lots on MySQL/MariaDB (issue 22, docs/mysql.md mechanism 2): the one path that
 * changes a lot-tracked level's on-hand and its lots here, written the way every such path must
 * be — the level row locked first, level and lot written, then `stockhold_assert_lots_match` as
 * the last statement before COMMIT (InnoDB has no deferred constraint): the sum cannot change
 * between that check and the commit, since the level row stays locked until then.
 */
import type { Pool } from 'mariadb';
import { lotSellable, pickFefo, sellableFirst, type ConsumedLot, type LotForPicking } from '../../domain/stock';
import { Operation } from '../../domain/types';
import { inMariadbTx, lockSerial, readMariadbFence, writeMariadbFence, type MariadbTx } from './tx';

/** A receipt of units into one lot of a level, fenced by its serial. */
export interface MariadbLotReceipt {
  readonly serial: string;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly lotCode: string;
  readonly quantity: number;
}

/** What a receipt did: the level's on-hand after it (a repeat answers the first). */
export interface MariadbReceiptOutcome {
  readonly status: 'received';
  readonly onHand: number;
}

/** Receives units into a lot: level + lot + ledger row, asserted to agree before the commit. */
export async function receiveLotOnMariadb(pool: Pool, receipt: MariadbLotReceipt): Promise<MariadbReceiptOutcome> {
  return inMariadbTx(pool, async (tx) => {
    await lockSerial(tx, receipt.serial);
    const first = await readMariadbFence<MariadbReceiptOutcome>(tx, receipt.serial, Operation.RECEIVE);
    if (first) return first;
    return withLevelLots(tx, receipt.sku, receipt.warehouseCode, async () => {
      await tx.query(
        `UPDATE inventory_levels SET on_hand = on_hand + ?, version = version + 1, updated_at = UTC_TIMESTAMP(3)
          WHERE sku = ? AND warehouse_code = ?`,
        [receipt.quantity, receipt.sku, receipt.warehouseCode],
      );
      await tx.query(
        `INSERT INTO stock_lots (sku, warehouse_code, lot_code, quantity) VALUES (?, ?, ?, ?)
         ON DUPLICATE KEY UPDATE quantity = quantity + VALUES(quantity)`,
        [receipt.sku, receipt.warehouseCode, receipt.lotCode, receipt.quantity],
      );
      await tx.query(
        `INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta, lot_code,
                                      on_hand_before, on_hand_after, reserved_before, reserved_after, incoming_before, incoming_after)
         SELECT sku, warehouse_code, 'RECEIPT', ?, ?, 0, ?, on_hand - ?, on_hand, reserved, reserved, incoming, incoming
           FROM inventory_levels WHERE sku = ? AND warehouse_code = ?`,
        [receipt.serial, receipt.quantity, receipt.lotCode, receipt.quantity, receipt.sku, receipt.warehouseCode],
      );
      const [{ on_hand: onHand }] = await tx.query<{ on_hand: number }[]>(
        'SELECT on_hand FROM inventory_levels WHERE sku = ? AND warehouse_code = ?',
        [receipt.sku, receipt.warehouseCode],
      );
      const outcome: MariadbReceiptOutcome = { status: 'received', onHand };
      await writeMariadbFence(tx, receipt.serial, Operation.RECEIVE, outcome);
      return outcome;
    });
  });
}

/**
 * Runs `change` on a level and its lots with the level row locked, then asserts that the lots
 * still sum to on-hand (SQLSTATE 23000, errno 4025 when not: the transaction rolls back). Every
 * MariaDB path that touches a lot-tracked level's on-hand or lots goes through here.
 */
export async function withLevelLots<T>(
  tx: MariadbTx,
  sku: string,
  warehouseCode: string,
  change: () => Promise<T>,
): Promise<T> {
  await tx.query('SELECT 1 FROM inventory_levels WHERE sku = ? AND warehouse_code = ? FOR UPDATE', [
    sku,
    warehouseCode,
  ]);
  const result = await change();
  await tx.query('CALL stockhold_assert_lots_match(?, ?)', [sku, warehouseCode]);
  return result;
}

/**
 * The lots a sale or a shipment takes, FEFO (data/stock/fefo.ts consumeLots): sellable lots
 * first, each group earliest use-by first (no date last), then by receipt and lot code; a lot
 * quarantined or expired after the hold is used only when nothing sellable is left (the units
 * are paid for or shipped: they must leave) and comes back `sellable: false`. The lot rows are
 * locked after their level row (the caller's withLevelLots); the caller takes the quantities.
 */
export async function pickLotsFefo(
  tx: MariadbTx,
  sku: string,
  warehouseCode: string,
  quantity: number,
): Promise<ConsumedLot[]> {
  const rows = await tx.query<
    {
      lot_code: string;
      quantity: number;
      quarantined: number | boolean;
      remove_at: Date | null;
      expires_at: Date | null;
      now: Date;
    }[]
  >(
    `SELECT lot_code, quantity, quarantined, remove_at, expires_at, UTC_TIMESTAMP(3) AS now
       FROM stock_lots WHERE sku = ? AND warehouse_code = ? AND quantity > 0
      ORDER BY expires_at IS NULL, expires_at, received_at, lot_code FOR UPDATE`,
    [sku, warehouseCode],
  );
  const ordered: LotForPicking[] = sellableFirst(
    rows.map((l) => ({
      lotCode: l.lot_code,
      quantity: l.quantity,
      sellable: lotSellable({ quarantined: Boolean(l.quarantined), removeAt: l.remove_at }, l.now),
      expiresAt: l.expires_at,
    })),
  );
  return pickFefo(ordered, quantity).map(({ lot, take }) => ({
    sku,
    warehouseCode,
    lotCode: lot.lotCode,
    quantity: take,
    expiresAt: lot.expiresAt?.toISOString() ?? null,
    sellable: lot.sellable,
  }));
}
