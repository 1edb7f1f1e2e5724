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
--
-- Inputs:      p_limit (events per pass), p_source (the CloudEvents source).
-- Outcome:     the number of events positioned.
-- Error codes: none.
-- Lock order:  pg_advisory_xact_lock('stockhold_events_assign') first, then event_outbox rows; reads the ledger, reservations and campaigns without locking.
-- Defined first by migration 20261208200000_event_outbox (its triggers need it); this file is the definition.
CREATE OR REPLACE FUNCTION "stockhold_events_assign"(p_limit INT, p_source TEXT) RETURNS INT
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
                        'incomingDelta', m.incoming_delta, 'damagedDelta', m.damaged_delta,
                        'qualityControlDelta', m.quality_control_delta) ORDER BY m.id), '[]'::jsonb)
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
