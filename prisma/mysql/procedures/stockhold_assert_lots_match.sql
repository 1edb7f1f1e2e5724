-- stockhold_assert_lots_match: PostgreSQL's deferred "lots sum to on hand" constraint
-- (lots_match_on_hand) on MySQL/MariaDB, which have no deferred constraints (docs/mysql.md,
-- mechanism 2). Called as the last statement before COMMIT by every path that changes a
-- lot-tracked level's on-hand or its lots, while that path still holds the level row's lock
-- (FOR UPDATE), so nothing can change the sum between this check and the commit.
--
-- Inputs:      p_sku, p_warehouse: the level.
-- Outcome:     nothing when the product is not lot-tracked or its lots sum to on_hand.
-- Error codes: SQLSTATE 23000 (MYSQL_ERRNO 4025, a check violation) with the level in the
--              message: the caller rolls back.
-- Lock order:  none of its own (reads under the caller's level lock).
CREATE OR REPLACE PROCEDURE stockhold_assert_lots_match(IN p_sku VARCHAR(255), IN p_warehouse VARCHAR(255))
READS SQL DATA SQL SECURITY DEFINER
BEGIN
  DECLARE msg VARCHAR(600);
  IF EXISTS (
    SELECT 1 FROM inventory_levels il JOIN products p ON p.sku = il.sku
     WHERE il.sku = p_sku AND il.warehouse_code = p_warehouse AND p.lot_tracked
       AND il.on_hand <> (SELECT COALESCE(SUM(l.quantity), 0) FROM stock_lots l
                           WHERE l.sku = il.sku AND l.warehouse_code = il.warehouse_code))
  THEN
    SET msg = CONCAT('lots of ', p_sku, ' at ', p_warehouse, ' do not sum to on-hand');
    SIGNAL SQLSTATE '23000' SET MYSQL_ERRNO = 4025, MESSAGE_TEXT = msg;
  END IF;
END
