-- Issue 18 item 3: signed webhooks (Standard Webhooks). docs/events.md "Webhooks" says why a
-- cursor per subscription plus a row per FAILED delivery (not a row per event and subscriber).
--
-- event_subscriptions: one receiver.
--   secret            the current signing secret, whsec_<base64>; shown once by the API.
--   previous_secret   the secret before the last rotation, also signed with until
--                     previous_secret_until (the overlap), then forgotten.
--   types/skus/warehouses  the filter (empty: all); types may end in '.*' (stock.*).
--   cursor            the last position handled (delivered, filtered out, or gone DEAD); a new
--                     subscription starts at the head: it hears what commits from then on.
--   status            ACTIVE or DISABLED (disabled_reason: GONE for a 410, FAILING when a
--                     delivery exhausted its retries, MANUAL).
--   lease_owner/lease_until  which worker's dispatcher loop runs it: one at a time.
CREATE TABLE "event_subscriptions" (
    "id" TEXT NOT NULL,
    "url" TEXT NOT NULL,
    "description" TEXT,
    "types" TEXT[] NOT NULL DEFAULT '{}',
    "skus" TEXT[] NOT NULL DEFAULT '{}',
    "warehouses" TEXT[] NOT NULL DEFAULT '{}',
    "secret" TEXT NOT NULL,
    "previous_secret" TEXT,
    "previous_secret_until" TIMESTAMPTZ(3),
    "cursor" BIGINT NOT NULL DEFAULT 0,
    "status" TEXT NOT NULL DEFAULT 'ACTIVE',
    "disabled_reason" TEXT,
    "disabled_at" TIMESTAMPTZ(3),
    "lease_owner" TEXT,
    "lease_until" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT now(),
    CONSTRAINT "event_subscriptions_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "event_subscriptions_status_known" CHECK ("status" IN ('ACTIVE', 'DISABLED')),
    CONSTRAINT "event_subscriptions_secret_format" CHECK ("secret" LIKE 'whsec\_%')
);

-- event_deliveries: only events whose delivery failed at least once (a delivered-first-time
-- event leaves no row). RETRYING: the subscription's loop waits for next_attempt_at (its
-- cursor stays before it, so order holds); DEAD: retries exhausted or 410 (the cursor moved
-- past it); DELIVERED: a retry (automatic or by route) succeeded.
CREATE TABLE "event_deliveries" (
    "id" BIGSERIAL NOT NULL,
    "subscription_id" TEXT NOT NULL,
    "position" BIGINT NOT NULL,
    "event_id" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3),
    "last_status" INTEGER,
    "last_error" TEXT,
    "first_failed_at" TIMESTAMPTZ(3) NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    CONSTRAINT "event_deliveries_pkey" PRIMARY KEY ("id"),
    CONSTRAINT "event_deliveries_status_known" CHECK ("status" IN ('RETRYING', 'DEAD', 'DELIVERED')),
    CONSTRAINT "event_deliveries_subscription_fkey" FOREIGN KEY ("subscription_id") REFERENCES "event_subscriptions"("id") ON DELETE CASCADE
);
CREATE UNIQUE INDEX "event_deliveries_subscription_position_key" ON "event_deliveries"("subscription_id", "position");
CREATE INDEX "event_deliveries_status_idx" ON "event_deliveries"("subscription_id", "status");

-- A new alert kind, WEBHOOK_DISABLED: a subscription disabled by its receiver (410) or by a
-- delivery that failed for its whole retry schedule. Subject '<subscription id>/<disabled at, ms>'.
ALTER TABLE "stock_alerts" DROP CONSTRAINT "stock_alerts_kind_known";
ALTER TABLE "stock_alerts" ADD CONSTRAINT "stock_alerts_kind_known"
  CHECK ("kind" IN ('NEAR_EXPIRY', 'EXPIRED', 'TRANSFER_OVERDUE', 'SAGA_PAST_EXPIRY', 'PAYMENT_UNSETTLED', 'RELEASE_FAILED', 'PAYMENT_UNKNOWN_ORDER', 'SAGA_PAYMENT_MISMATCH', 'WEBHOOK_DISABLED'));
