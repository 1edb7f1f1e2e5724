-- Issue 18 items 5 and 6: push channels and retention.
-- One row per push channel (NATS today; webhooks later): the last feed position the channel
-- has delivered and had acknowledged. A channel reads positioned events after it, in position
-- order; retention never deletes an event a channel has not passed.
CREATE TABLE "event_channel_cursors" (
    "channel" TEXT NOT NULL,
    "position" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT "event_channel_cursors_pkey" PRIMARY KEY ("channel"),
    CONSTRAINT "event_channel_cursors_position_nonneg" CHECK ("position" >= 0)
);
