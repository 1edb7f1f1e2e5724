-- cache_outbox_on_product_rename: a product's name is part of its cached availability, so a
-- rename queues the SKU's cache invalidation (trigger products_cache_invalidate, AFTER UPDATE OF
-- name, migration 20261125095000_cache_outbox) without every caller of upsertProduct having to.
--
-- Inputs:      OLD, NEW: the products row.
-- Outcome:     NEW; one cache_outbox row when the name changed.
-- Error codes: none of its own.
-- Lock order:  none beyond the insert.
CREATE OR REPLACE FUNCTION "cache_outbox_on_product_rename"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.name IS DISTINCT FROM OLD.name THEN
    INSERT INTO cache_outbox (sku) VALUES (NEW.sku);
  END IF;
  RETURN NEW;
END $$;
