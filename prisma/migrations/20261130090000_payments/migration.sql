-- Payments as facts (the incident's "paid but never deducted").
--
-- payments: one row per payment the provider reported for an order, keyed by (order, payment).
-- It is written before the payment is delivered to any saga, and its state changes in the same
-- transaction as the step that settles it (confirm, the pre-sale fulfilment, or a recorded
-- refund). A row still PENDING minutes after it arrived is a drift: reconciliation reports it,
-- raises an alert and drives it to settlement.
--
-- reservations.amount_cents: what the order costs, when the shop said so; a payment of another
-- amount is not confirmed (AMOUNT_MISMATCH).
-- reconciliation_runs.unsettled_payments: the payments a run found PENDING too long.

-- CreateTable
CREATE TABLE "payments" (
    "order_id" TEXT NOT NULL,
    "payment_id" TEXT NOT NULL,
    "event_id" TEXT NOT NULL,
    "amount_cents" INTEGER NOT NULL,
    "state" TEXT NOT NULL DEFAULT 'PENDING',
    "reason" TEXT,
    "reservation_id" TEXT,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "settled_at" TIMESTAMPTZ(3),

    CONSTRAINT "payments_pkey" PRIMARY KEY ("order_id","payment_id"),
    CONSTRAINT "payments_state_check" CHECK ("state" IN ('PENDING', 'CONFIRMED', 'BACKORDERED', 'REFUND_REQUIRED', 'DUPLICATE_CHARGE', 'AMOUNT_MISMATCH')),
    CONSTRAINT "payments_settled_check" CHECK (("state" = 'PENDING') = ("settled_at" IS NULL)),
    CONSTRAINT "payments_amount_check" CHECK ("amount_cents" >= 0)
);

-- CreateIndex
CREATE INDEX "payments_state_received_at_idx" ON "payments"("state", "received_at");

-- AlterTable
ALTER TABLE "reservations" ADD COLUMN "amount_cents" INTEGER;
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_amount_check" CHECK ("amount_cents" IS NULL OR "amount_cents" >= 0);

-- AlterTable
ALTER TABLE "reconciliation_runs" ADD COLUMN "unsettled_payments" JSONB NOT NULL DEFAULT '[]';
