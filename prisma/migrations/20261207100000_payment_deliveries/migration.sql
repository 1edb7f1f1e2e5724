-- payment_deliveries: the transactional outbox of payment deliveries. The webhook commits the
-- payment, its event and this row together and answers; it then signals the order's saga
-- (bounded, in-process) and the worker's relay delivers whatever it did not. A row stays
-- until the payment is settled in PostgreSQL (payments.state <> 'PENDING'), not merely
-- until a signal was accepted: a signal swallowed by a saga that was completing is
-- delivered again (then as a late payment) at the next attempt.
CREATE TABLE "payment_deliveries" (
    "order_id" TEXT NOT NULL,
    "payment_id" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "amount_cents" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    -- The last delivery that went through: from then on an attempt is a re-check (the saga
    -- still runs: it has the signal, wait; it ended with the payment PENDING: deliver again).
    "delivered_at" TIMESTAMPTZ(3),

    CONSTRAINT "payment_deliveries_pkey" PRIMARY KEY ("order_id", "payment_id")
);

-- CreateIndex
CREATE INDEX "payment_deliveries_next_attempt_at_idx" ON "payment_deliveries"("next_attempt_at");

-- The answer the provider got for an event (a redelivery of the event gets it again);
-- `result` goes on to record what the delivery and the settlement did.
ALTER TABLE "payment_events" ADD COLUMN "answer" TEXT;
UPDATE "payment_events"
   SET "answer" = CASE WHEN "result" IN ('DELIVERED', 'SETTLED') THEN "result" ELSE 'LATE_SETTLEMENT' END
 WHERE "delivered_at" IS NOT NULL;

-- Payments PENDING at the upgrade get their delivery row, so the relay drives them now
-- rather than the unsettled-payment check minutes later.
INSERT INTO "payment_deliveries" ("order_id", "payment_id", "event_id", "amount_cents")
SELECT "order_id", "payment_id", "event_id", "amount_cents" FROM "payments" WHERE "state" = 'PENDING'
ON CONFLICT DO NOTHING;

-- A new alert kind, PAYMENT_UNKNOWN_ORDER: a signed payment for an order PostgreSQL still did
-- not know after PAYMENT_UNKNOWN_ORDER_GRACE_SECONDS; it is kept, settled REFUND_REQUIRED
-- (reason UNKNOWN_ORDER) and listed. One per payment: subject = '<orderId>/<paymentId>'.
ALTER TABLE "stock_alerts" DROP CONSTRAINT "stock_alerts_kind_known";
ALTER TABLE "stock_alerts" ADD CONSTRAINT "stock_alerts_kind_known"
  CHECK ("kind" IN ('NEAR_EXPIRY', 'EXPIRED', 'TRANSFER_OVERDUE', 'SAGA_PAST_EXPIRY', 'PAYMENT_UNSETTLED', 'RELEASE_FAILED', 'PAYMENT_UNKNOWN_ORDER'));

-- stockhold_accept_payment: the payment webhook's transaction, in one round trip (no
-- interactive transaction holding a pooled connection while a burst of callbacks waits).
--
-- Inputs:  p_event_id, p_order_id, p_payment_id, p_amount (cents), p_relay_grace_ms.
-- Outcome: one row (kind, answer, message):
--   'accepted',  'ACCEPTED' — the event is new; the payment is stored PENDING (or was already)
--                              and its payment_deliveries row is open (the relay takes it after
--                              p_relay_grace_ms): the caller delivers it now;
--   'accepted',  'SETTLED'  — the event is new but its payment was already settled: it stays so;
--   'duplicate', <answer>   — the event id was answered before with the same content: its first
--                              answer, nothing changes;
--   'conflict',  NULL, why  — the event id was seen with other content, or the payment id with
--                              another amount: nothing is left changed (409 IDEMPOTENCY_CONFLICT).
-- Lock order: the event row (of two concurrent first deliveries of one event id, the second
-- waits for the first's commit and gets its answer), then the payment row, then the delivery row.
-- An event stored before answers existed (answer NULL: an upgrade mid-delivery) is taken as new.
CREATE FUNCTION "stockhold_accept_payment"(p_event_id TEXT, p_order_id TEXT, p_payment_id TEXT, p_amount INTEGER, p_relay_grace_ms INTEGER,
                                           OUT kind TEXT, OUT answer TEXT, OUT message TEXT)
LANGUAGE plpgsql AS $$
DECLARE
  seen payment_events%ROWTYPE;
  stored payments%ROWTYPE;
BEGIN
  INSERT INTO payment_events (event_id, order_id, payment_id, amount_cents, result)
  VALUES (p_event_id, p_order_id, p_payment_id, p_amount, 'RECEIVED')
  ON CONFLICT (event_id) DO NOTHING;
  IF NOT FOUND THEN
    SELECT * INTO seen FROM payment_events e WHERE e.event_id = p_event_id FOR UPDATE;
    IF seen.order_id <> p_order_id OR seen.payment_id <> p_payment_id OR seen.amount_cents <> p_amount THEN
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
  INSERT INTO payments (order_id, payment_id, event_id, amount_cents)
  VALUES (p_order_id, p_payment_id, p_event_id, p_amount)
  ON CONFLICT (order_id, payment_id) DO NOTHING;
  SELECT * INTO stored FROM payments p WHERE p.order_id = p_order_id AND p.payment_id = p_payment_id;
  IF stored.amount_cents <> p_amount THEN
    -- Undo this call's event row (its own, uncommitted): a refused event leaves no trace.
    DELETE FROM payment_events e WHERE e.event_id = p_event_id AND e.answer IS NULL AND seen.event_id IS NULL;
    kind := 'conflict'; message := format('payment %s was reported with another amount', p_payment_id);
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
