-- stockhold_lot_event: AFTER INSERT OR UPDATE of a lot. A transaction that changes a lot
-- after it changed the level (a confirm consuming lots, a write-off emptying an expired lot,
-- a lot receipt) changes the level's availability after its stock.changed was written: the
-- event's "after" and the level's event_available are brought up to date. A lot change before
-- the level's (quarantine) needs nothing: the level's trigger reads the lots as they are.
-- Not on the hold path (holds touch no lot).
--
-- Inputs:      the lot row written (NEW).
-- Outcome:     the transaction's stock.changed of the lot's level and the level's event_available brought up to date.
-- Error codes: none.
-- Lock order:  after its writer locked the level (the lot's writers lock level, then lots); updates only rows of its own transaction and the level already locked.
-- Defined first by migration 20261208200000_event_outbox (its triggers need it); this file is the definition.
CREATE OR REPLACE FUNCTION "stockhold_lot_event"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  avail INT;
BEGIN
  SELECT stockhold_available(il) INTO avail
    FROM inventory_levels il WHERE il.sku = NEW.sku AND il.warehouse_code = NEW.warehouse_code;
  UPDATE event_outbox SET data = jsonb_set(data, '{after,available}', to_jsonb(avail))
   WHERE txid = pg_current_xact_id() AND type = 'stock.changed' AND subject = NEW.sku || '@' || NEW.warehouse_code
     AND (data #>> '{after,available}')::int IS DISTINCT FROM avail;
  IF FOUND THEN
    UPDATE inventory_levels SET event_available = avail WHERE sku = NEW.sku AND warehouse_code = NEW.warehouse_code;
  END IF;
  RETURN NULL;
END;
$$;
