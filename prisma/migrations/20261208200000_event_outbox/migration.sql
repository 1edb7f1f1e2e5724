-- Issue 18 (items 1, 2, 4): every committed change produces its events in the same
-- transaction, and only a committed change does. Triggers on the rows that change write the
-- event outbox, so no writer (the hold batch, the reserve, confirm, release, receipt,
-- adjustment, safety stock, quarantine, write-off, transfers, campaigns, pre-sales, late
-- re-reserve, payments, alerts) can forget, and a rollback (a guard, a CHECK, a savepoint)
-- takes its events with it. docs/events.md describes the envelope and the guarantees.
--
-- event_outbox: one row per event.
--   id        insertion order (bigserial): orders the events a positioning pass takes, and
--             orders any two events of the same subject (the later one's writer waited for
--             the earlier one's commit on the subject's row lock before it inserted).
--   event_id  the CloudEvents id, fixed at insert: every channel dedupes on it.
--   txid      the writing transaction (top level, also inside savepoints); the ledger rows
--             carry the same id, so the causes of a stock.changed are that transaction's
--             ledger rows of the level, resolved when the row is positioned (after commit).
--   position  NULL until positioned; then 1, 2, 3… with no hole, assigned after commit
--             by stockhold_events_assign under one advisory lock (commit order, below).
--   event     the CloudEvent (structured JSON), written once with the position: the same
--             content for every reader and every channel.
CREATE TABLE "event_outbox" (
    "id" BIGSERIAL NOT NULL,
    "event_id" TEXT NOT NULL DEFAULT gen_random_uuid()::text,
    "txid" XID8 NOT NULL DEFAULT pg_current_xact_id(),
    "type" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "sku" TEXT,
    "warehouse_code" TEXT,
    "data" JSONB NOT NULL,
    "time" TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
    "position" BIGINT,
    "event" JSONB,
    CONSTRAINT "event_outbox_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "event_outbox_positioned_whole" CHECK (("position" IS NULL) = ("event" IS NULL))
);
-- No index on event_id: gen_random_uuid() does not collide, derived ids are md5 of a parent's
-- id and their type, and every index is one more write per hold on the hot path.
CREATE UNIQUE INDEX "event_outbox_position_key" ON "event_outbox"("position");
-- One stock.changed per (transaction, level), one campaign.changed per (transaction, campaign).
CREATE UNIQUE INDEX "event_outbox_once_per_tx" ON "event_outbox"("txid", "type", "subject")
  WHERE "type" IN ('stock.changed', 'campaign.changed');
-- What the next positioning pass takes.
CREATE INDEX "event_outbox_unpositioned" ON "event_outbox"("id") WHERE "position" IS NULL;

-- The ledger says which transaction wrote each row (old rows: NULL, left out of the index).
-- The index build reads the whole ledger while writes wait: on a ledger of many millions of
-- rows, create it first with CREATE INDEX CONCURRENTLY (same name and definition) and this
-- migration skips it.
ALTER TABLE "stock_movements" ADD COLUMN "txid" XID8;
ALTER TABLE "stock_movements" ALTER COLUMN "txid" SET DEFAULT pg_current_xact_id();
CREATE INDEX IF NOT EXISTS "stock_movements_txid_idx" ON "stock_movements"("txid") WHERE "txid" IS NOT NULL;

-- The availability the level's last event reported: the next event's "before". Kept on the
-- row because availability also depends on lots (quarantine, removal dates) that a
-- transaction may change before it touches the level, so it cannot be recomputed later.
ALTER TABLE "inventory_levels" ADD COLUMN "event_available" INTEGER NOT NULL DEFAULT 0;
UPDATE "inventory_levels" SET "event_available" = "on_hand" - "reserved" - "safety_stock" - unsellable_quantity("sku", "warehouse_code");

-- stockhold_level_event: BEFORE INSERT OR UPDATE of a level row (hot path: the hold batch
-- fires it once per batch and level).
-- Effect: the row's version becomes OLD.version + 1 whatever the writer set (so versions
--   count changes with no hole), its event_available the availability after the change; the
--   transaction's stock.changed of the level is inserted, or its "after" and toVersion moved
--   on (the first "before" stays). A new level is version 0 when empty (writers insert them
--   so, then update), else 1, and its event is written AFTER INSERT (stockhold_level_created):
--   a BEFORE INSERT trigger also fires for a row ON CONFLICT then skips.
-- Cost: one unsellable_quantity look-up and one outbox upsert per level row written.
CREATE FUNCTION "stockhold_level_event"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  avail INT;
  b_on_hand INT := 0; b_reserved INT := 0; b_safety INT := 0; b_incoming INT := 0; b_avail INT := 0; b_version BIGINT := 0;
BEGIN
  IF TG_OP = 'UPDATE' AND (NEW.on_hand, NEW.reserved, NEW.safety_stock, NEW.incoming, NEW.version)
                          = (OLD.on_hand, OLD.reserved, OLD.safety_stock, OLD.incoming, OLD.version) THEN
    -- Only event_available moved (stockhold_lot_event below): not a change of the level.
    IF NEW.event_available IS DISTINCT FROM OLD.event_available THEN RETURN NEW; END IF;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    b_on_hand := OLD.on_hand; b_reserved := OLD.reserved; b_safety := OLD.safety_stock;
    b_incoming := OLD.incoming; b_avail := OLD.event_available; b_version := OLD.version;
  ELSE
    NEW.version := CASE WHEN (NEW.on_hand, NEW.reserved, NEW.safety_stock, NEW.incoming) = (0, 0, 0, 0) THEN 0 ELSE 1 END;
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
                                         'incoming', b_incoming, 'available', b_avail),
            'after', jsonb_build_object('onHand', NEW.on_hand, 'reserved', NEW.reserved, 'safetyStock', NEW.safety_stock,
                                        'incoming', NEW.incoming, 'available', avail)))
  ON CONFLICT (txid, type, subject) WHERE type IN ('stock.changed', 'campaign.changed') DO UPDATE
    SET data = event_outbox.data || jsonb_build_object('toVersion', EXCLUDED.data->'toVersion', 'after', EXCLUDED.data->'after');
  RETURN NEW;
END;
$$;
CREATE TRIGGER "inventory_levels_event" BEFORE INSERT OR UPDATE ON "inventory_levels"
  FOR EACH ROW EXECUTE FUNCTION "stockhold_level_event"();

-- stockhold_level_created: AFTER INSERT of a level that is not empty (version 1): its
-- stock.changed from nothing (version 0, all zero) to what it holds.
CREATE FUNCTION "stockhold_level_created"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_outbox (type, subject, sku, warehouse_code, data)
  VALUES ('stock.changed', NEW.sku || '@' || NEW.warehouse_code, NEW.sku, NEW.warehouse_code,
          jsonb_build_object(
            'sku', NEW.sku, 'warehouseCode', NEW.warehouse_code, 'fromVersion', 0, 'toVersion', NEW.version,
            'before', jsonb_build_object('onHand', 0, 'reserved', 0, 'safetyStock', 0, 'incoming', 0, 'available', 0),
            'after', jsonb_build_object('onHand', NEW.on_hand, 'reserved', NEW.reserved, 'safetyStock', NEW.safety_stock,
                                        'incoming', NEW.incoming, 'available', NEW.event_available)));
  RETURN NULL;
END;
$$;
CREATE TRIGGER "inventory_levels_created_event" AFTER INSERT ON "inventory_levels"
  FOR EACH ROW WHEN (NEW.version > 0) EXECUTE FUNCTION "stockhold_level_created"();

-- stockhold_lot_event: AFTER INSERT OR UPDATE of a lot. A transaction that changes a lot
-- after it changed the level (a confirm consuming lots, a write-off emptying an expired lot,
-- a lot receipt) changes the level's availability after its stock.changed was written: the
-- event's "after" and the level's event_available are brought up to date. A lot change before
-- the level's (quarantine) needs nothing: the level's trigger reads the lots as they are.
-- Not on the hold path (holds touch no lot).
CREATE FUNCTION "stockhold_lot_event"() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER "stock_lots_event" AFTER INSERT OR UPDATE ON "stock_lots"
  FOR EACH ROW EXECUTE FUNCTION "stockhold_lot_event"();

-- stockhold_campaign_event: AFTER INSERT OR UPDATE of a campaign (hot path: the flash-sale
-- hold batch fires it once per batch). One campaign.changed per (transaction, campaign)
-- with the pool before (null when created) and after; an update that changes none of
-- remaining, quota, status, ends_at emits nothing.
CREATE FUNCTION "stockhold_campaign_event"() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE TRIGGER "campaigns_event" AFTER INSERT OR UPDATE ON "campaigns"
  FOR EACH ROW EXECUTE FUNCTION "stockhold_campaign_event"();

-- stockhold_order_event: AFTER INSERT / UPDATE of reservations, once per statement (the hold
-- batch inserts all its holds in one statement: one outbox INSERT for the lot). A hold
-- inserted is order.held (order.backordered for a pre-sale's); a status change is
-- order.<new status> (confirmed, released with its reason, backordered, refund_required).
-- Transfer holds (`transfer:<id>`) are not orders: their changes are stock.changed.
CREATE FUNCTION "stockhold_order_event"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO event_outbox (type, subject, data)
    SELECT 'order.' || CASE n.status WHEN 'RESERVED' THEN 'held' ELSE lower(n.status) END, n.order_id,
           jsonb_build_object('orderId', n.order_id, 'reservationId', n.id, 'userId', n.user_id, 'status', n.status,
                              'campaignId', n.campaign_id, 'expiresAt', n.expires_at, 'amountCents', n.amount_cents)
      FROM new_rows n WHERE n.id NOT LIKE 'transfer:%';
  ELSE
    INSERT INTO event_outbox (type, subject, data)
    SELECT 'order.' || CASE n.status WHEN 'RESERVED' THEN 'held' ELSE lower(n.status) END, n.order_id,
           jsonb_build_object('orderId', n.order_id, 'reservationId', n.id, 'userId', n.user_id, 'status', n.status,
                              'previousStatus', o.status, 'reason', n.release_reason, 'paymentId', n.payment_id,
                              'campaignId', n.campaign_id, 'amountCents', n.amount_cents)
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.status IS DISTINCT FROM o.status AND n.id NOT LIKE 'transfer:%';
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER "reservations_event_insert" AFTER INSERT ON "reservations"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "stockhold_order_event"();
CREATE TRIGGER "reservations_event_update" AFTER UPDATE ON "reservations"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "stockhold_order_event"();

-- stockhold_payment_event: a payment leaving PENDING (or stored already settled) is
-- payment.settled with its state (CONFIRMED, BACKORDERED, REFUND_REQUIRED, DUPLICATE_CHARGE,
-- AMOUNT_MISMATCH) and reason; a later change of a settled payment's state is one too.
CREATE FUNCTION "stockhold_payment_event"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO event_outbox (type, subject, data)
    SELECT 'payment.settled', n.order_id,
           jsonb_build_object('orderId', n.order_id, 'paymentId', n.payment_id, 'state', n.state, 'previousState', NULL,
                              'reason', n.reason, 'amountCents', n.amount_cents, 'reservationId', n.reservation_id)
      FROM new_rows n WHERE n.state <> 'PENDING';
  ELSE
    INSERT INTO event_outbox (type, subject, data)
    SELECT 'payment.settled', n.order_id,
           jsonb_build_object('orderId', n.order_id, 'paymentId', n.payment_id, 'state', n.state, 'previousState', o.state,
                              'reason', n.reason, 'amountCents', n.amount_cents, 'reservationId', n.reservation_id)
      FROM new_rows n JOIN old_rows o ON o.order_id = n.order_id AND o.payment_id = n.payment_id
     WHERE n.state <> 'PENDING' AND n.state IS DISTINCT FROM o.state;
  END IF;
  RETURN NULL;
END;
$$;
CREATE TRIGGER "payments_event_insert" AFTER INSERT ON "payments"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "stockhold_payment_event"();
CREATE TRIGGER "payments_event_update" AFTER UPDATE ON "payments"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "stockhold_payment_event"();

-- stockhold_alert_event: every alert raised is alert.<kind in lower case> (alert.near_expiry, …).
CREATE FUNCTION "stockhold_alert_event"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO event_outbox (type, subject, sku, warehouse_code, data)
  SELECT 'alert.' || lower(n.kind), n.subject, n.sku, n.warehouse_code,
         jsonb_build_object('alertId', n.id::text, 'kind', n.kind, 'subject', n.subject, 'sku', n.sku,
                            'warehouseCode', n.warehouse_code, 'lotCode', n.lot_code, 'details', n.details)
    FROM new_rows n;
  RETURN NULL;
END;
$$;
CREATE TRIGGER "stock_alerts_event" AFTER INSERT ON "stock_alerts"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION "stockhold_alert_event"();

-- stockhold_cloud_event: the CloudEvents 1.0 structured envelope of a positioned event.
-- `sequence` is the position zero-padded to 20 digits, so it also orders as a string.
CREATE FUNCTION "stockhold_cloud_event"(p_id TEXT, p_source TEXT, p_type TEXT, p_subject TEXT, p_time TIMESTAMPTZ,
                                         p_position BIGINT, p_data JSONB) RETURNS JSONB
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object(
    'specversion', '1.0', 'id', p_id, 'source', p_source, 'type', p_type, 'subject', p_subject,
    'time', to_char(p_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'sequence', lpad(p_position::text, 20, '0'), 'datacontenttype', 'application/json', 'data', p_data)
$$;

-- stockhold_events_assign: one positioning pass (the worker's event relay, and GET /events
-- before it reads). Takes the unpositioned events visible now — every one of them committed
-- — at most p_limit, in id order, and gives them the next positions, 1, 2, 3… after the
-- highest one; completes each (a stock.changed gets its causes, the ledger rows its
-- transaction wrote on the level; an order event its lines) and writes its envelope; adds
-- the transition events it implies right behind it: stock.out_of_stock / stock.back_in_stock
-- (availability crossing 0), campaign.sold_out (an open pool's remaining reaching 0), with ids derived from
-- their parent's, so a retried pass or another channel names them the same.
-- Why this is gap-free: positions are given only after commit, serialised by one advisory
-- lock (transaction-scoped), each pass in a fresh snapshot that sees the previous pass
-- committed. A reader that has seen position p never later finds a new event below p, and
-- any two events of one subject get positions in the order they happened: the later one's
-- writer could only touch the subject's row after the earlier one committed, so the earlier
-- one is visible (and has the smaller id) whenever the later one is.
-- Returns the number of events positioned.
CREATE FUNCTION "stockhold_events_assign"(p_limit INT, p_source TEXT) RETURNS INT
LANGUAGE plpgsql AS $$
DECLARE
  head BIGINT;
  n INT;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended('stockhold_events_assign', 0));
  -- A new statement, so a new snapshot: it sees the pass that held the lock before.
  SELECT COALESCE(max(position), 0) INTO head FROM event_outbox;
  WITH picked AS (
    SELECT o.id, o.event_id, o.txid, o.type, o.subject, o.sku, o.warehouse_code, o.data, o.time,
           CASE
             WHEN o.type = 'stock.changed' AND (o.data #>> '{before,available}')::int > 0
                  AND (o.data #>> '{after,available}')::int <= 0 THEN 'stock.out_of_stock'
             WHEN o.type = 'stock.changed' AND (o.data #>> '{before,available}')::int <= 0
                  AND (o.data #>> '{after,available}')::int > 0 THEN 'stock.back_in_stock'
             WHEN o.type = 'campaign.changed' AND COALESCE((o.data #>> '{before,remaining}')::int, 1) > 0
                  AND (o.data #>> '{after,remaining}')::int = 0 AND o.data #>> '{after,status}' = 'OPEN' THEN 'campaign.sold_out'
           END AS derived
      FROM event_outbox o
     WHERE o.position IS NULL
     ORDER BY o.id
     LIMIT p_limit),
  numbered AS (
    SELECT p.*, head + sum(1 + (p.derived IS NOT NULL)::int) OVER (ORDER BY p.id) - (p.derived IS NOT NULL)::int AS pos
      FROM picked p),
  completed AS (
    SELECT nb.*,
           CASE
             WHEN nb.type = 'stock.changed' THEN nb.data || jsonb_build_object('causes', (
               SELECT COALESCE(jsonb_agg(jsonb_build_object(
                        'movementId', m.id::text, 'reason', m.reason, 'reference', m.reference, 'lotCode', m.lot_code,
                        'actor', m.actor, 'onHandDelta', m.on_hand_delta, 'reservedDelta', m.reserved_delta,
                        'incomingDelta', m.incoming_delta) ORDER BY m.id), '[]'::jsonb)
                 FROM stock_movements m
                WHERE m.txid = nb.txid AND m.sku = nb.sku AND m.warehouse_code = nb.warehouse_code))
             WHEN nb.type LIKE 'order.%' THEN nb.data || jsonb_build_object('lines', (
               SELECT COALESCE(jsonb_agg(jsonb_build_object('sku', l.sku, 'warehouseCode', l.warehouse_code, 'quantity', l.quantity)
                                         ORDER BY l.sku COLLATE "C", l.warehouse_code COLLATE "C"), '[]'::jsonb)
                 FROM reservation_lines l WHERE l.reservation_id = nb.data->>'reservationId'))
             ELSE nb.data
           END AS full_data
      FROM numbered nb),
  positioned AS (
    UPDATE event_outbox o
       SET position = c.pos,
           event = stockhold_cloud_event(c.event_id, p_source, c.type, c.subject, c.time, c.pos, c.full_data)
      FROM completed c WHERE o.id = c.id
    RETURNING 1),
  implied AS (
    INSERT INTO event_outbox (event_id, txid, type, subject, sku, warehouse_code, data, time, position, event)
    SELECT d.event_id, c.txid, c.derived, c.subject, c.sku, c.warehouse_code, d.data, c.time, c.pos + 1,
           stockhold_cloud_event(d.event_id, p_source, c.derived, c.subject, c.time, c.pos + 1, d.data)
      FROM completed c
     CROSS JOIN LATERAL (SELECT md5(c.event_id || c.derived)::uuid::text AS event_id,
                                CASE WHEN c.type = 'stock.changed'
                                  THEN jsonb_build_object('sku', c.sku, 'warehouseCode', c.warehouse_code,
                                         'available', c.data #> '{after,available}', 'version', c.data -> 'toVersion',
                                         'changeId', c.event_id)
                                  ELSE jsonb_build_object('campaignId', c.subject, 'sku', c.sku, 'warehouseCode', c.warehouse_code,
                                         'changeId', c.event_id)
                                END AS data) d
     WHERE c.derived IS NOT NULL
    RETURNING 1)
  SELECT (SELECT count(*) FROM positioned) + (SELECT count(*) FROM implied) INTO n;
  RETURN n;
END;
$$;

-- The `events` scope: read the event feed (GET /events).
ALTER TABLE "api_keys" DROP CONSTRAINT "api_keys_scopes_known";
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_scopes_known" CHECK (
  cardinality("scopes") > 0 AND "scopes" <@ ARRAY['orders', 'inventory:read', 'campaigns', 'admin', 'ops', 'events']::TEXT[]);
