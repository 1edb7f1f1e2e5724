-- lots_match_on_hand: for lot-tracked products the lots of a level sum to its on-hand. The
-- deferred constraint triggers inventory_levels_lots_match and stock_lots_match_on_hand
-- (migration 20261125094000_stock_model) run it at commit, since a receipt or a confirm
-- changes the level and its lots in two statements.
--
-- Inputs:      NEW: the inventory_levels or stock_lots row written (its sku, warehouse_code).
-- Outcome:     NULL (an AFTER trigger) when the level is not lot-tracked or its lots sum to on_hand.
-- Error codes: 23514 check_violation — the commit fails, nothing of the transaction stays.
-- Lock order:  none (reads at commit).
CREATE OR REPLACE FUNCTION "lots_match_on_hand"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM "inventory_levels" il JOIN "products" p ON p."sku" = il."sku"
     WHERE il."sku" = NEW."sku" AND il."warehouse_code" = NEW."warehouse_code" AND p."lot_tracked"
       AND il."on_hand" <> (SELECT COALESCE(SUM(l."quantity"), 0) FROM "stock_lots" l
                             WHERE l."sku" = il."sku" AND l."warehouse_code" = il."warehouse_code"))
  THEN
    RAISE EXCEPTION 'lots of % at % do not sum to on-hand', NEW."sku", NEW."warehouse_code"
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END;
$$;
