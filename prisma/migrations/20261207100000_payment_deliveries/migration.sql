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
