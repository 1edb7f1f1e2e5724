/** Cross-table invariants of the stock model; an empty result means they all hold. */
import type { Db } from './db';

/**
 * The invariants of the stock, checked by every test, the benchmark and the chaos suite: on-hand and reserved equal the sums of the ledger,
 * reserved equals the sum of active holds (orders' holds and open campaigns' pools), nothing
 * negative. Returns the offending rows.
 */
export async function invariantViolations(db: Db): Promise<unknown[]> {
  return db.$queryRawUnsafe(`
    WITH ledger AS (
      SELECT sku, warehouse_code, SUM(on_hand_delta)::int AS on_hand, SUM(reserved_delta)::int AS reserved
        FROM stock_movements GROUP BY sku, warehouse_code),
    holds AS (
      SELECT sku, warehouse_code, SUM(quantity)::int AS reserved FROM (
        SELECT l.sku, l.warehouse_code, l.quantity
          FROM reservation_lines l JOIN reservations r ON r.id = l.reservation_id
         WHERE r.status = 'RESERVED' AND r.campaign_id IS NULL
        UNION ALL
        -- A flash sale's set-aside: its unsold pool plus the holds taken from it. (Pre-sales
        -- hold no stock: their goods have not arrived.)
        SELECT c.sku, c.warehouse_code, c.remaining FROM campaigns c WHERE c.status = 'OPEN' AND c.kind = 'FLASH_SALE'
        UNION ALL
        SELECT l.sku, l.warehouse_code, l.quantity
          FROM reservation_lines l JOIN reservations r ON r.id = l.reservation_id
          JOIN campaigns c ON c.id = r.campaign_id
         WHERE r.status = 'RESERVED' AND c.kind = 'FLASH_SALE'
      ) h GROUP BY sku, warehouse_code)
    SELECT il.sku, il.warehouse_code, il.on_hand, il.reserved,
           ledger.on_hand AS ledger_on_hand, ledger.reserved AS ledger_reserved, COALESCE(holds.reserved, 0) AS held
      FROM inventory_levels il
      LEFT JOIN ledger USING (sku, warehouse_code)
      LEFT JOIN holds USING (sku, warehouse_code)
     WHERE il.on_hand IS DISTINCT FROM ledger.on_hand
        OR il.reserved IS DISTINCT FROM ledger.reserved
        OR il.reserved <> COALESCE(holds.reserved, 0)
        OR il.on_hand < 0 OR il.reserved < 0 OR il.reserved > il.on_hand`);
}
