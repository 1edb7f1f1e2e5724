-- stockhold_level_event: BEFORE INSERT OR UPDATE of a level row (hot path: the hold batch
-- fires it once per batch and level).
-- Effect: the row's version becomes OLD.version + 1 whatever the writer set (so versions
--   count changes with no hole), its event_available the availability after the change; the
--   transaction's stock.changed of the level is inserted, or its "after" and toVersion moved
--   on (the first "before" stays). A new level is version 0 when empty (writers insert them
--   so, then update), else 1, and its event is written AFTER INSERT (stockhold_level_created):
--   a BEFORE INSERT trigger also fires for a row ON CONFLICT then skips.
-- Cost: one unsellable_quantity look-up and one outbox upsert per level row written.
--
-- Inputs:      the level row written (NEW, OLD on UPDATE).
-- Outcome:     NEW with version and event_available set; the transaction's stock.changed of the level upserted.
-- Error codes: none.
-- Lock order:  inside its writer's statement, under the level's row lock; writes only event_outbox rows of its own transaction.
-- Defined first by migration 20261208200000_event_outbox (its triggers need it); this file is the definition.
CREATE OR REPLACE FUNCTION "stockhold_level_event"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  avail INT;
  b_on_hand INT := 0; b_reserved INT := 0; b_safety INT := 0; b_incoming INT := 0; b_avail INT := 0; b_version BIGINT := 0;
  b_damaged INT := 0; b_qc INT := 0;
BEGIN
  IF TG_OP = 'UPDATE' AND (NEW.on_hand, NEW.reserved, NEW.safety_stock, NEW.incoming, NEW.damaged, NEW.quality_control, NEW.version)
                          = (OLD.on_hand, OLD.reserved, OLD.safety_stock, OLD.incoming, OLD.damaged, OLD.quality_control, OLD.version) THEN
    -- Only event_available moved (stockhold_lot_event below): not a change of the level.
    IF NEW.event_available IS DISTINCT FROM OLD.event_available THEN RETURN NEW; END IF;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    b_on_hand := OLD.on_hand; b_reserved := OLD.reserved; b_safety := OLD.safety_stock;
    b_incoming := OLD.incoming; b_avail := OLD.event_available; b_version := OLD.version;
    b_damaged := OLD.damaged; b_qc := OLD.quality_control;
  ELSE
    NEW.version := CASE WHEN (NEW.on_hand, NEW.reserved, NEW.safety_stock, NEW.incoming, NEW.damaged, NEW.quality_control) = (0, 0, 0, 0, 0, 0) THEN 0 ELSE 1 END;
    NEW.event_available := stockhold_available(NEW);
    RETURN NEW;
  END IF;
  NEW.version := b_version + 1;
  avail := stockhold_available(NEW);
  NEW.event_available := avail;
  INSERT INTO event_outbox (type, subject, sku, warehouse_code, data)
  VALUES ('stock.changed', NEW.sku || '@' || NEW.warehouse_code, NEW.sku, NEW.warehouse_code,
          jsonb_build_object(
            'sku', NEW.sku, 'warehouseCode', NEW.warehouse_code,
            'fromVersion', b_version, 'toVersion', NEW.version,
            'before', jsonb_build_object('onHand', b_on_hand, 'reserved', b_reserved, 'safetyStock', b_safety,
                                         'incoming', b_incoming, 'damaged', b_damaged, 'qualityControl', b_qc,
                                         'available', b_avail),
            'after', jsonb_build_object('onHand', NEW.on_hand, 'reserved', NEW.reserved, 'safetyStock', NEW.safety_stock,
                                        'incoming', NEW.incoming, 'damaged', NEW.damaged, 'qualityControl', NEW.quality_control,
                                        'available', avail)))
  ON CONFLICT (txid, type, subject) WHERE type IN ('stock.changed', 'campaign.changed') DO UPDATE
    SET data = event_outbox.data || jsonb_build_object('toVersion', EXCLUDED.data->'toVersion', 'after', EXCLUDED.data->'after');
  RETURN NEW;
END;
$$;
