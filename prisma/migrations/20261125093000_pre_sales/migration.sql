-- Pre-sales: campaigns that sell stock not yet received. Paid pre-orders wait as backorders
-- (no stock is held for them) until the goods arrive and are allocated first-paid-first-served.

-- AlterTable
ALTER TABLE "campaigns" ADD COLUMN "kind" TEXT NOT NULL DEFAULT 'FLASH_SALE',
ADD COLUMN "expected_at" TIMESTAMPTZ(3);

-- AlterTable
ALTER TABLE "reservations" ADD COLUMN "paid_at" TIMESTAMPTZ(3);

-- CreateIndex
CREATE INDEX "reservations_campaign_id_paid_at_idx" ON "reservations"("campaign_id", "paid_at");

ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_kind_known" CHECK ("kind" IN ('FLASH_SALE', 'PRE_SALE'));
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_pre_sale_has_date" CHECK ("kind" <> 'PRE_SALE' OR "expected_at" IS NOT NULL);
ALTER TABLE "campaigns" DROP CONSTRAINT "campaigns_status_known";
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_status_known" CHECK ("status" IN ('OPEN', 'ENDED', 'FULFILLED'));
ALTER TABLE "reservations" DROP CONSTRAINT "reservations_status_known";
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_status_known"
  CHECK ("status" IN ('RESERVED', 'CONFIRMED', 'RELEASED', 'BACKORDERED', 'REFUND_REQUIRED'));
