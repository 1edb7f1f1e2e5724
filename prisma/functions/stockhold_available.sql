-- stockhold_available: the units of a stock level that may still be promised — THE definition
-- of availability. Every statement that reads or guards availability uses it: the TypeScript
-- fragment AVAILABLE (data/stock/level-sql.ts: the reserve guard, the pre-sale and campaign
-- takes, allocation's reads, the shortages shown) and stockhold_hold_batch (the request path's
-- group commit). domain/stock.ts availableUnits mirrors it for views computed in TypeScript.
--
-- Inputs:      l: a row of inventory_levels, called as stockhold_available(inventory_levels)
--              (or with the table's alias): the row the statement is looking at, so inside an
--              UPDATE's WHERE it is the row version the guard re-checks under READ COMMITTED.
-- Outcome:     on_hand − reserved − safety_stock − damaged − quality_control
--              − unsellable_quantity(sku, warehouse_code) (quarantined lots and lots past their
--              removal date); damaged and quality_control are the level's buckets of units on
--              hand that may not be sold (issue 19). Not clamped: below 0 means
--              more is held than may be sold (the guard's overdrawn check, reconciliation); the
--              API shows it clamped at 0.
-- Error codes: none.
-- Lock order:  none (reads stock_lots through unsellable_quantity at the statement's snapshot).
--
-- Why a LANGUAGE sql function, STABLE, one SELECT of one expression, no SET, no SECURITY
-- DEFINER, not STRICT: the planner inlines it, so on the hot path it costs exactly what the
-- expression written out did (test/db/sql-functions.test.ts checks the plan). Any of those
-- changed makes it an opaque call per row. STABLE, not IMMUTABLE: it reads the lots and now().
CREATE OR REPLACE FUNCTION "stockhold_available"(l "inventory_levels") RETURNS INTEGER
LANGUAGE sql STABLE AS $$
  SELECT l.on_hand - l.reserved - l.safety_stock - l.damaged - l.quality_control
         - unsellable_quantity(l.sku, l.warehouse_code)
$$;
