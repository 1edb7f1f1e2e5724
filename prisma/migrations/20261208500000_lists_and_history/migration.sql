-- Issue 19 item 5 and 7: the history (GET /admin/movements) and the lists, each paged by a
-- keyset cursor (domain/cursor.ts) and so each with an index in its keyset order.
--
-- stock_movements.tx_id: the transaction that wrote the row (txid_current(), epoch-extended so
-- it never wraps), so the rows of one change read as one group. Rows written before this
-- migration have none (NULL: the ledger is append-only, nothing is backfilled); the default is
-- set after the column is added so they do not all share the migration's own transaction id.
ALTER TABLE "stock_movements" ADD COLUMN "tx_id" BIGINT;
ALTER TABLE "stock_movements" ALTER COLUMN "tx_id" SET DEFAULT txid_current();

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
