-- Issue 19 item 5 and 7: the history (GET /admin/movements) and the lists, each paged by a
-- keyset cursor (domain/cursor.ts) and so each with an index in its keyset order.
--
-- The rows of one change read as one group by the ledger's txid (xid8, added with the event
-- outbox by 20261208200000_event_outbox): no column of its own.

-- History filters beside the existing (sku, warehouse_code[, lot_code]) and (reference) ones.
CREATE INDEX "stock_movements_actor_id_idx" ON "stock_movements" ("actor", "id");
CREATE INDEX "stock_movements_created_at_idx" ON "stock_movements" ("created_at");

-- Orders, newest first (all, and one user's); holds by expiry.
CREATE INDEX "reservations_created_at_id_idx" ON "reservations" ("created_at", "id");
CREATE INDEX "reservations_user_id_created_at_id_idx" ON "reservations" ("user_id", "created_at", "id");
CREATE INDEX "reservations_status_expires_at_id_idx" ON "reservations" ("status", "expires_at", "id");

-- Payments newest first (and by state: the existing (state, received_at) one plus the key).
CREATE INDEX "payments_received_at_order_id_payment_id_idx" ON "payments" ("received_at", "order_id", "payment_id");
CREATE INDEX "payments_state_received_at_order_id_payment_id_idx" ON "payments" ("state", "received_at", "order_id", "payment_id");

-- Transfers and campaigns newest first (transfers also by stage).
CREATE INDEX "transfers_created_at_id_idx" ON "transfers" ("created_at", "id");
CREATE INDEX "transfers_status_created_at_id_idx" ON "transfers" ("status", "created_at", "id");
CREATE INDEX "campaigns_created_at_id_idx" ON "campaigns" ("created_at", "id");
