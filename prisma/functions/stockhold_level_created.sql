-- stockhold_level_created: AFTER INSERT of a level that is not empty (version 1): its
-- stock.changed from nothing (version 0, all zero) to what it holds.
--
-- Inputs:      the level row inserted (NEW).
-- Outcome:     its first stock.changed.
-- Error codes: none.
-- Lock order:  inside the inserting statement; writes only event_outbox.
-- Defined first by migration 20261208200000_event_outbox (its triggers need it); this file is the definition.
CREATE OR REPLACE FUNCTION "stockhold_level_created"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_outbox (type, subject, sku, warehouse_code, data)
  VALUES ('stock.changed', NEW.sku || '@' || NEW.warehouse_code, NEW.sku, NEW.warehouse_code,
          jsonb_build_object(
            'sku', NEW.sku, 'warehouseCode', NEW.warehouse_code, 'fromVersion', 0, 'toVersion', NEW.version,
            'before', jsonb_build_object('onHand', 0, 'reserved', 0, 'safetyStock', 0, 'incoming', 0, 'damaged', 0,
                                         'qualityControl', 0, 'available', 0),
            'after', jsonb_build_object('onHand', NEW.on_hand, 'reserved', NEW.reserved, 'safetyStock', NEW.safety_stock,
                                        'incoming', NEW.incoming, 'damaged', NEW.damaged, 'qualityControl', NEW.quality_control,
                                        'available', NEW.event_available)));
  RETURN NULL;
END;
$$;
