-- stockhold_payment_event: a payment leaving PENDING (or stored already settled) is
-- payment.settled with its state (CONFIRMED, BACKORDERED, REFUND_REQUIRED, DUPLICATE_CHARGE,
-- AMOUNT_MISMATCH) and reason; a later change of a settled payment's state is one too.
--
-- Inputs:      the statement's transition tables of payments.
-- Outcome:     one payment.settled per payment settled or changing settled state.
-- Error codes: none.
-- Lock order:  none of its own; writes only event_outbox.
-- Defined first by migration 20261208200000_event_outbox (its triggers need it); this file is the definition.
CREATE OR REPLACE FUNCTION "stockhold_payment_event"() RETURNS trigger LANGUAGE plpgsql AS $$
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
