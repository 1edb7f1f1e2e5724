-- Issue 19 item 6: a payment's whole life. A payment the shop owed back is closed REFUNDED by
-- the provider's payment.refunded event (payment.failed and payment.canceled are stored as
-- events: payment_events.type).
ALTER TABLE "payments" DROP CONSTRAINT "payments_state_check";
ALTER TABLE "payments" ADD CONSTRAINT "payments_state_check"
  CHECK ("state" IN ('PENDING', 'CONFIRMED', 'BACKORDERED', 'REFUND_REQUIRED', 'DUPLICATE_CHARGE', 'AMOUNT_MISMATCH', 'REFUNDED'));

-- Payments carry their currency beside amount_cents (ISO 4217; NULL: the provider did not say).
ALTER TABLE "payments" ADD COLUMN "currency" TEXT;
ALTER TABLE "payments" ADD CONSTRAINT "payments_currency_iso" CHECK ("currency" ~ '^[A-Z]{3}$');
ALTER TABLE "payment_events" ADD COLUMN "currency" TEXT;
ALTER TABLE "payment_events" ADD CONSTRAINT "payment_events_currency_iso" CHECK ("currency" ~ '^[A-Z]{3}$');
-- stockhold_accept_payment takes the currency: a new signature (its file makes the new one).
DROP FUNCTION "stockhold_accept_payment"(TEXT, TEXT, TEXT, INTEGER, INTEGER);
