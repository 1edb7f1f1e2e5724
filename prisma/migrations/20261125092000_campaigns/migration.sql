-- Flash-sale campaigns: a quota set aside from normal stock (held in inventory_levels.reserved
-- under the serial campaign:<id>), sold through an admission gate, returned when it ends.

-- CreateTable
CREATE TABLE "campaigns" (
    "id" TEXT NOT NULL,
    "sku" TEXT NOT NULL,
    "warehouse_code" TEXT NOT NULL,
    "starts_at" TIMESTAMPTZ(3) NOT NULL,
    "ends_at" TIMESTAMPTZ(3) NOT NULL,
    "quota" INTEGER NOT NULL,
    "per_user_limit" INTEGER NOT NULL,
    "remaining" INTEGER NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'OPEN',
    "ended_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "campaigns_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "campaign_user_counts" (
    "campaign_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,

    CONSTRAINT "campaign_user_counts_pkey" PRIMARY KEY ("campaign_id","user_id")
);

-- AlterTable
ALTER TABLE "reservations" ADD COLUMN "campaign_id" TEXT;

-- CreateIndex
CREATE INDEX "reservations_campaign_id_status_idx" ON "reservations"("campaign_id", "status");

-- AddForeignKey
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_sku_warehouse_code_fkey" FOREIGN KEY ("sku", "warehouse_code") REFERENCES "inventory_levels"("sku", "warehouse_code") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "campaign_user_counts" ADD CONSTRAINT "campaign_user_counts_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "reservations" ADD CONSTRAINT "reservations_campaign_id_fkey" FOREIGN KEY ("campaign_id") REFERENCES "campaigns"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- What Prisma cannot express: the pool can never go negative nor exceed the quota, and a
-- user's count never negative (the per-user limit is enforced by the conditional upsert).
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_window" CHECK ("ends_at" > "starts_at");
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_quota_pos" CHECK ("quota" > 0 AND "per_user_limit" > 0);
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_remaining_range" CHECK ("remaining" >= 0 AND "remaining" <= "quota");
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_status_known" CHECK ("status" IN ('OPEN', 'ENDED'));
ALTER TABLE "campaign_user_counts" ADD CONSTRAINT "campaign_user_counts_quantity_nonneg" CHECK ("quantity" >= 0);
