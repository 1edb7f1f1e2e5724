-- Issue 19 item 4: stock on hand that may not be sold. A level gains two buckets, `damaged` and
-- `quality_control` (units set aside by a move, a return or a count, still on the shelf), and
-- availability subtracts them (prisma/functions/stockhold_available.sql). Every ledger row
-- carries how it moved each bucket, so reconciliation checks a bucket against Σ its ledger.
--
-- The invariant: every bucket ≥ 0, and what is held plus what is set aside fits on hand:
-- reserved + damaged + quality_control <= on_hand (it implies the older reserved <= on_hand,
-- which stays).
ALTER TABLE "inventory_levels"
  ADD COLUMN "damaged" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "quality_control" INTEGER NOT NULL DEFAULT 0;
ALTER TABLE "inventory_levels" ADD CONSTRAINT "inventory_levels_damaged_nonneg" CHECK ("damaged" >= 0);
ALTER TABLE "inventory_levels" ADD CONSTRAINT "inventory_levels_quality_control_nonneg" CHECK ("quality_control" >= 0);
ALTER TABLE "inventory_levels" ADD CONSTRAINT "inventory_levels_held_and_set_aside_le_on_hand"
  CHECK ("reserved" + "damaged" + "quality_control" <= "on_hand");

ALTER TABLE "stock_movements"
  ADD COLUMN "damaged_delta" INTEGER NOT NULL DEFAULT 0,
  ADD COLUMN "quality_control_delta" INTEGER NOT NULL DEFAULT 0;

-- The cached views (GET /inventory/:sku) gain the two buckets: drop every cached entry through
-- the cache outbox, so none written before this migration is served without them.
INSERT INTO "cache_outbox" ("sku") SELECT "sku" FROM "products";
