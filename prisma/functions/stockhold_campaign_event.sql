-- stockhold_campaign_event: AFTER INSERT OR UPDATE of a campaign (hot path: the flash-sale
-- hold batch fires it once per batch). One campaign.changed per (transaction, campaign)
-- with the pool before (null when created) and after; an update that changes none of
-- remaining, quota, status, ends_at emits nothing.
--
-- Inputs:      the campaign row written (NEW, OLD on UPDATE).
-- Outcome:     the transaction's campaign.changed upserted.
-- Error codes: none.
-- Lock order:  inside its writer's statement, under the campaign's row lock; writes only event_outbox.
-- Defined first by migration 20261208200000_event_outbox (its triggers need it); this file is the definition.
CREATE OR REPLACE FUNCTION "stockhold_campaign_event"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  b JSONB := NULL;
BEGIN
  IF TG_OP = 'UPDATE' THEN
    IF (OLD.remaining, OLD.quota, OLD.status, OLD.ends_at) IS NOT DISTINCT FROM (NEW.remaining, NEW.quota, NEW.status, NEW.ends_at) THEN
      RETURN NULL;
    END IF;
    b := jsonb_build_object('remaining', OLD.remaining, 'quota', OLD.quota, 'status', OLD.status, 'endsAt', OLD.ends_at);
  END IF;
  INSERT INTO event_outbox (type, subject, sku, warehouse_code, data)
  VALUES ('campaign.changed', NEW.id, NEW.sku, NEW.warehouse_code,
          jsonb_build_object('campaignId', NEW.id, 'kind', NEW.kind, 'sku', NEW.sku, 'warehouseCode', NEW.warehouse_code,
            'before', b,
            'after', jsonb_build_object('remaining', NEW.remaining, 'quota', NEW.quota, 'status', NEW.status, 'endsAt', NEW.ends_at)))
  ON CONFLICT (txid, type, subject) WHERE type IN ('stock.changed', 'campaign.changed') DO UPDATE
    SET data = event_outbox.data || jsonb_build_object('after', EXCLUDED.data->'after');
  RETURN NULL;
END;
$$;
