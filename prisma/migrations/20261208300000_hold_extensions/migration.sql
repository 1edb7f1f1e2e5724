-- Issue 19 item 1: a hold that is still waiting for its payment may be extended (a 3-D Secure
-- challenge that outlasts the TTL). Each extension is a fact, fenced by (order, extension id):
-- a repeat gets the first answer. The hold counts its extensions and the seconds they added,
-- so the caps are part of the one guarded UPDATE that moves `expires_at`.
ALTER TABLE "reservations" ADD COLUMN "extension_count" INTEGER NOT NULL DEFAULT 0,
                           ADD COLUMN "extended_seconds" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_extensions_nonnegative" CHECK ("extension_count" >= 0 AND "extended_seconds" >= 0);

-- A flash sale's holds are not extended unless its campaign says so (fairness: a held unit is
-- one another shopper cannot buy).
ALTER TABLE "campaigns" ADD COLUMN "allow_hold_extension" BOOLEAN NOT NULL DEFAULT false;

CREATE TABLE "hold_extensions" (
    "order_id"      TEXT NOT NULL,
    "extension_id"  TEXT NOT NULL,
    "seconds"       INTEGER NOT NULL,
    "reason"        TEXT NOT NULL,
    -- API (POST /orders/:id/extend) or PAYMENT_PENDING (the payment.pending webhook)
    "source"        TEXT NOT NULL,
    -- The answer: {"status":"EXTENDED","expiresAt":...} or {"status":"REFUSED","code":...}
    "outcome"       JSONB NOT NULL,
    "created_at"    TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    CONSTRAINT "hold_extensions_pkey" PRIMARY KEY ("order_id", "extension_id"),
    CONSTRAINT "hold_extensions_seconds_positive" CHECK ("seconds" > 0)
);

-- Payment webhook events carry their type (payment.succeeded, payment.pending).
ALTER TABLE "payment_events" ADD COLUMN "type" TEXT NOT NULL DEFAULT 'payment.succeeded';
