-- stockhold_order_event: AFTER INSERT / UPDATE of reservations, once per statement (the hold
-- batch inserts all its holds in one statement: one outbox INSERT for the lot). A hold
-- inserted is order.held (order.backordered for a pre-sale's); a status change is
-- order.<new status> (confirmed, released with its reason, backordered, refund_required); a
-- hold still RESERVED whose expiry moved (an extension) is order.extended with the new expiry;
-- one whose version moved (POST /orders/:id/edit) is order.edited with its lines and amount
-- (completed when positioned, like order.held's lines; the levels' stock.changed say what moved).
-- Transfer holds (`transfer:<id>`) are not orders: their changes are stock.changed.
--
-- Inputs:      the statement's transition tables of reservations.
-- Outcome:     one order.* event per order hold inserted, changing status, extended or edited.
-- Error codes: none.
-- Lock order:  none of its own; writes only event_outbox.
-- Defined first by migration 20261208200000_event_outbox (its triggers need it); this file is the definition.
CREATE OR REPLACE FUNCTION "stockhold_order_event"() RETURNS trigger LANGUAGE plpgsql AS $$
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
    INSERT INTO event_outbox (type, subject, data)
    SELECT 'order.extended', n.order_id,
           jsonb_build_object('orderId', n.order_id, 'reservationId', n.id, 'userId', n.user_id, 'status', n.status,
                              'previousExpiresAt', o.expires_at, 'expiresAt', n.expires_at,
                              'campaignId', n.campaign_id, 'amountCents', n.amount_cents)
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.status = 'RESERVED' AND o.status = 'RESERVED' AND n.expires_at > o.expires_at AND n.id NOT LIKE 'transfer:%';
    INSERT INTO event_outbox (type, subject, data)
    SELECT 'order.edited', n.order_id,
           jsonb_build_object('orderId', n.order_id, 'reservationId', n.id, 'userId', n.user_id, 'status', n.status,
                              'previousVersion', o.version, 'version', n.version,
                              'previousAmountCents', o.amount_cents, 'amountCents', n.amount_cents,
                              'campaignId', n.campaign_id, 'expiresAt', n.expires_at)
      FROM new_rows n JOIN old_rows o ON o.id = n.id
     WHERE n.version > o.version AND n.id NOT LIKE 'transfer:%';
  END IF;
  RETURN NULL;
END;
$$;
