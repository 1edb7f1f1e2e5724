-- stockhold_alert_event: every alert raised is alert.<kind in lower case> (alert.near_expiry, …).
--
-- Inputs:      the statement's new stock_alerts rows.
-- Outcome:     one alert.<kind> per alert.
-- Error codes: none.
-- Lock order:  none of its own; writes only event_outbox.
-- Defined first by migration 20261208200000_event_outbox (its triggers need it); this file is the definition.
CREATE OR REPLACE FUNCTION "stockhold_alert_event"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_outbox (type, subject, sku, warehouse_code, data)
  SELECT 'alert.' || lower(n.kind), n.subject, n.sku, n.warehouse_code,
         jsonb_build_object('alertId', n.id::text, 'kind', n.kind, 'subject', n.subject, 'sku', n.sku,
                            'warehouseCode', n.warehouse_code, 'lotCode', n.lot_code, 'details', n.details)
    FROM new_rows n;
  RETURN NULL;
END;
$$;
