-- stockhold_accept_payment: the payment webhook's transaction, in one round trip (no
-- interactive transaction holding a pooled connection while a burst of callbacks waits).
-- Called by data/payments/payment-deliveries.ts acceptPayment.
--
-- Inputs:      p_event_id, p_order_id, p_payment_id, p_amount (cents), p_relay_grace_ms,
--              p_currency (ISO 4217, or NULL when the provider did not say).
-- Outcome:     one row (kind, answer, message):
--                'accepted',  'ACCEPTED' — the event is new; the payment is stored PENDING (or
--                                          was already) and its payment_deliveries row is open
--                                          (the relay takes it after p_relay_grace_ms): the
--                                          caller delivers it now;
--                'accepted',  'SETTLED'  — the event is new but its payment was already
--                                          settled: it stays so;
--                'duplicate', <answer>   — the event id was answered before with the same
--                                          content: its first answer, nothing changes;
--                'conflict',  NULL, why  — the event id was seen with other content (or as
--                                          another type of event, e.g. payment.pending), or
--                                          the payment id with another amount: nothing is
--                                          left changed (409 IDEMPOTENCY_CONFLICT).
--              A conflict is an outcome, not an error: the provider's redelivery is answered,
--              never failed.
-- Error codes: none of its own (class SH codes: data/sql-errors.ts); PostgreSQL's own
--              (23514 a negative amount, 55P03 a lock timeout) reach the caller as they are.
-- Lock order:  the order's serial lock (the advisory lock every step of the order takes,
--              data/db.ts inKeyLockedTx: an order edit and a payment are ordered, the first
--              to commit wins), then the event row (of two concurrent first deliveries of one event id, the second
--              waits for the first's commit and gets its answer), then the payment row, then
--              the delivery row. An event stored before answers existed (answer NULL: an
--              upgrade mid-delivery) is taken as new.
--
-- History: migration 20261207100000_payment_deliveries (first). Since then this file is the
-- definition. Issue 19: an event id first seen as another type (payment.pending…) is a conflict
-- here; p_currency is new (migration 20261208300100_payment_lifecycle dropped the old signature).
-- Issue 19 item 2: takes the order's serial lock first (an edit and a payment are ordered).
CREATE OR REPLACE FUNCTION "stockhold_accept_payment"(p_event_id TEXT, p_order_id TEXT, p_payment_id TEXT, p_amount INTEGER, p_relay_grace_ms INTEGER,
                                           p_currency TEXT, OUT kind TEXT, OUT answer TEXT, OUT message TEXT)
LANGUAGE plpgsql AS $$
DECLARE
  seen payment_events%ROWTYPE;
  stored payments%ROWTYPE;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(p_order_id, 0));
  INSERT INTO payment_events (event_id, order_id, payment_id, amount_cents, currency, result)
  VALUES (p_event_id, p_order_id, p_payment_id, p_amount, p_currency, 'RECEIVED')
  ON CONFLICT (event_id) DO NOTHING;
  IF NOT FOUND THEN
    SELECT * INTO seen FROM payment_events e WHERE e.event_id = p_event_id FOR UPDATE;
    IF seen.order_id <> p_order_id OR seen.payment_id <> p_payment_id OR seen.amount_cents <> p_amount OR seen.type <> 'payment.succeeded'
       OR seen.currency IS DISTINCT FROM p_currency THEN
      kind := 'conflict'; message := format('event %s was delivered with other content', p_event_id);
      RETURN;
    END IF;
    IF seen.answer IS NOT NULL THEN
      kind := 'duplicate'; answer := seen.answer;
      RETURN;
    END IF;
  END IF;
  -- The payment is a fact before any saga hears of it (a fresh statement: it sees a concurrent
  -- first report of the same payment that committed while this one waited).
  INSERT INTO payments (order_id, payment_id, event_id, amount_cents, currency)
  VALUES (p_order_id, p_payment_id, p_event_id, p_amount, p_currency)
  ON CONFLICT (order_id, payment_id) DO NOTHING;
  SELECT * INTO stored FROM payments p WHERE p.order_id = p_order_id AND p.payment_id = p_payment_id;
  IF stored.amount_cents <> p_amount OR stored.currency IS DISTINCT FROM p_currency THEN
    -- Undo this call's event row (its own, uncommitted): a refused event leaves no trace.
    DELETE FROM payment_events e WHERE e.event_id = p_event_id AND e.answer IS NULL AND seen.event_id IS NULL;
    kind := 'conflict'; message := format('payment %s was reported with another amount or currency', p_payment_id);
    RETURN;
  END IF;
  IF stored.state = 'PENDING' THEN
    INSERT INTO payment_deliveries (order_id, payment_id, event_id, amount_cents, next_attempt_at)
    VALUES (p_order_id, p_payment_id, p_event_id, p_amount, now() + p_relay_grace_ms * interval '1 millisecond')
    ON CONFLICT (order_id, payment_id) DO NOTHING;
    answer := 'ACCEPTED';
  ELSE
    -- Reported again under another event id after it was settled: it stays as settled.
    answer := 'SETTLED';
  END IF;
  UPDATE payment_events e
     SET answer = stockhold_accept_payment.answer, delivered_at = now(),
         result = CASE WHEN stockhold_accept_payment.answer = 'SETTLED' THEN 'SETTLED' ELSE e.result END
   WHERE e.event_id = p_event_id;
  kind := 'accepted';
END;
$$;
