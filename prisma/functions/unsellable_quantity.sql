-- unsellable_quantity: stock that exists but must not be sold — quarantined lots, and lots past
-- their removal date. Computed at the moment of the statement (now() of its transaction), so a
-- lot stops counting as available the instant it passes its removal date, without waiting for
-- the write-off job. Part of availability (stockhold_available.sql); domain/stock.ts lotState
-- mirrors it for the API's views.
--
-- Inputs:      p_sku, p_warehouse: one level.
-- Outcome:     the units of its lots with quantity > 0 that are quarantined or past remove_at
--              (0 when none, or for a product without lots).
-- Error codes: none.
-- Lock order:  none (reads stock_lots at the statement's snapshot).
CREATE OR REPLACE FUNCTION "unsellable_quantity"(p_sku TEXT, p_warehouse TEXT) RETURNS INTEGER
LANGUAGE sql STABLE AS $$
  SELECT COALESCE(SUM("quantity"), 0)::int FROM "stock_lots"
   WHERE "sku" = p_sku AND "warehouse_code" = p_warehouse AND "quantity" > 0
     AND ("quarantined" OR "remove_at" <= now())
$$;
