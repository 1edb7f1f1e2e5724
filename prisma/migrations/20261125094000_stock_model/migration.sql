-- Stock model: where warehouses are and how they rank for allocation, perishable settings
-- per product, safety stock and incoming per level, lots with their dates, and what each
-- reservation was allocated from and consumed.

-- AlterTable
ALTER TABLE "warehouses" ADD COLUMN "region" TEXT NOT NULL DEFAULT 'default',
ADD COLUMN "priority" INTEGER NOT NULL DEFAULT 100,
ADD COLUMN "latitude" DOUBLE PRECISION,
ADD COLUMN "longitude" DOUBLE PRECISION;

-- AlterTable
ALTER TABLE "products" ADD COLUMN "lot_tracked" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "alert_days_before_expiry" INTEGER,
ADD COLUMN "removal_days_before_expiry" INTEGER;

-- AlterTable
ALTER TABLE "inventory_levels" ADD COLUMN "safety_stock" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "incoming" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "reservations" ADD COLUMN "allocation" JSONB,
ADD COLUMN "consumed_lots" JSONB;

-- AlterTable
ALTER TABLE "stock_movements" ADD COLUMN "lot_code" TEXT,
ADD COLUMN "incoming_delta" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "on_hand_before" INTEGER,
ADD COLUMN "on_hand_after" INTEGER,
ADD COLUMN "reserved_before" INTEGER,
ADD COLUMN "reserved_after" INTEGER,
ADD COLUMN "incoming_before" INTEGER,
ADD COLUMN "incoming_after" INTEGER;

-- CreateTable
CREATE TABLE "stock_lots" (
    "sku" TEXT NOT NULL,
    "warehouse_code" TEXT NOT NULL,
    "lot_code" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL DEFAULT 0,
    "received_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3),
    "alert_at" TIMESTAMPTZ(3),
    "remove_at" TIMESTAMPTZ(3),
    "quarantined" BOOLEAN NOT NULL DEFAULT false,
    "quarantine_reason" TEXT,

    CONSTRAINT "stock_lots_pkey" PRIMARY KEY ("sku","warehouse_code","lot_code")
);

-- CreateTable
CREATE TABLE "stock_alerts" (
    "id" BIGSERIAL NOT NULL,
    "kind" TEXT NOT NULL,
    "subject" TEXT NOT NULL,
    "sku" TEXT NOT NULL,
    "warehouse_code" TEXT NOT NULL,
    "lot_code" TEXT,
    "details" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),

    CONSTRAINT "stock_alerts_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "transfers" (
    "id" TEXT NOT NULL,
    "sku" TEXT NOT NULL,
    "from_warehouse" TEXT NOT NULL,
    "to_warehouse" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "received_quantity" INTEGER,
    "shortfall_reason" TEXT,
    "shipped_lots" JSONB,
    "deadline_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "transfers_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "reconciliation_runs" (
    "id" BIGSERIAL NOT NULL,
    "started_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "levels_checked" INTEGER NOT NULL,
    "clean" BOOLEAN NOT NULL,
    "drifts" JSONB NOT NULL,

    CONSTRAINT "reconciliation_runs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "stock_alerts_kind_subject_key" ON "stock_alerts"("kind", "subject");

-- CreateIndex
CREATE INDEX "stock_alerts_delivered_at_idx" ON "stock_alerts"("delivered_at");

-- CreateIndex
CREATE INDEX "transfers_status_idx" ON "transfers"("status");

-- CreateIndex
CREATE INDEX "stock_movements_sku_warehouse_code_lot_code_idx" ON "stock_movements"("sku", "warehouse_code", "lot_code");

-- AddForeignKey
ALTER TABLE "stock_lots" ADD CONSTRAINT "stock_lots_sku_warehouse_code_fkey" FOREIGN KEY ("sku", "warehouse_code") REFERENCES "inventory_levels"("sku", "warehouse_code") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_sku_fkey" FOREIGN KEY ("sku") REFERENCES "products"("sku") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_from_warehouse_fkey" FOREIGN KEY ("from_warehouse") REFERENCES "warehouses"("code") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_to_warehouse_fkey" FOREIGN KEY ("to_warehouse") REFERENCES "warehouses"("code") ON DELETE RESTRICT ON UPDATE CASCADE;

-- Constraints Prisma's schema cannot express.
ALTER TABLE "stock_alerts" ADD CONSTRAINT "stock_alerts_kind_known" CHECK ("kind" IN ('NEAR_EXPIRY', 'EXPIRED', 'TRANSFER_OVERDUE'));
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_quantity_pos" CHECK ("quantity" > 0);
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_distinct_ends" CHECK ("from_warehouse" <> "to_warehouse");
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_status_known" CHECK ("status" IN ('REQUESTED', 'SHIPPED', 'RECEIVED', 'CANCELLED', 'RETURNED', 'REJECTED'));
ALTER TABLE "transfers" ADD CONSTRAINT "transfers_received_le_shipped" CHECK ("received_quantity" IS NULL OR "received_quantity" BETWEEN 0 AND "quantity");
ALTER TABLE "inventory_levels" ADD CONSTRAINT "inventory_levels_safety_stock_nonneg" CHECK ("safety_stock" >= 0);
ALTER TABLE "inventory_levels" ADD CONSTRAINT "inventory_levels_incoming_nonneg" CHECK ("incoming" >= 0);
ALTER TABLE "stock_lots" ADD CONSTRAINT "stock_lots_quantity_nonneg" CHECK ("quantity" >= 0);
ALTER TABLE "stock_lots" ADD CONSTRAINT "stock_lots_dates_ordered" CHECK ("remove_at" IS NULL OR "expires_at" IS NULL OR "remove_at" <= "expires_at");
ALTER TABLE "warehouses" ADD CONSTRAINT "warehouses_coordinates_valid" CHECK (
  ("latitude" IS NULL) = ("longitude" IS NULL)
  AND ("latitude" IS NULL OR ("latitude" BETWEEN -90 AND 90 AND "longitude" BETWEEN -180 AND 180)));
ALTER TABLE "products" ADD CONSTRAINT "products_expiry_days_nonneg" CHECK (
  COALESCE("alert_days_before_expiry", 0) >= 0 AND COALESCE("removal_days_before_expiry", 0) >= 0);

-- Stock that exists but must not be sold: quarantined lots, and lots past their removal
-- date. Computed at the moment of the statement (now() of its transaction), so a lot stops
-- counting as available the instant it passes its removal date, without waiting for the
-- write-off job. The single definition used by the reserve guard and by every read.
CREATE FUNCTION "unsellable_quantity"(p_sku TEXT, p_warehouse TEXT) RETURNS INTEGER
LANGUAGE sql STABLE AS $$
  SELECT COALESCE(SUM("quantity"), 0)::int FROM "stock_lots"
   WHERE "sku" = p_sku AND "warehouse_code" = p_warehouse AND "quantity" > 0
     AND ("quarantined" OR "remove_at" <= now())
$$;

-- For lot-tracked products the lots of a level sum to its on-hand. Checked at commit
-- (deferred), since a receipt or a confirm changes the level and its lots in two statements.
CREATE FUNCTION "lots_match_on_hand"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM "inventory_levels" il JOIN "products" p ON p."sku" = il."sku"
     WHERE il."sku" = NEW."sku" AND il."warehouse_code" = NEW."warehouse_code" AND p."lot_tracked"
       AND il."on_hand" <> (SELECT COALESCE(SUM(l."quantity"), 0) FROM "stock_lots" l
                             WHERE l."sku" = il."sku" AND l."warehouse_code" = il."warehouse_code"))
  THEN
    RAISE EXCEPTION 'lots of % at % do not sum to on-hand', NEW."sku", NEW."warehouse_code"
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END;
$$;

CREATE CONSTRAINT TRIGGER "inventory_levels_lots_match" AFTER INSERT OR UPDATE ON "inventory_levels"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "lots_match_on_hand"();

CREATE CONSTRAINT TRIGGER "stock_lots_match_on_hand" AFTER INSERT OR UPDATE ON "stock_lots"
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION "lots_match_on_hand"();
