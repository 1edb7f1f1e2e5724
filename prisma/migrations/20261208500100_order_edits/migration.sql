-- Issue 19 item 2: an order's lines and amount may be edited while it waits for payment
-- (POST /orders/:id/edit). reservations.version counts the edits (0 as placed), the
-- compare-and-set of an edit's expectedVersion.
ALTER TABLE "reservations" ADD COLUMN "version" INTEGER NOT NULL DEFAULT 0;
