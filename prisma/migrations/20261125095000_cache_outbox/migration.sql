-- The stock cache's transactional outbox and the consistency checker's results.
--
-- cache_outbox: one row per SKU whose availability changed, written in the same transaction
-- as the change (activities/store/db.ts writeMovements), so a process dying right after the
-- commit cannot lose the invalidation. The relay deletes a row only after Redis took it.
-- cache_checks: one row per consistency check, queryable through GET /admin/cache/checks.

-- CreateTable
CREATE TABLE "cache_outbox" (
    "id" BIGSERIAL NOT NULL,
    "sku" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "cache_outbox_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "cache_checks" (
    "id" BIGSERIAL NOT NULL,
    "checked_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "hot" INTEGER NOT NULL,
    "sampled" INTEGER NOT NULL,
    "compared" INTEGER NOT NULL,
    "drifted" INTEGER NOT NULL,
    "drift_ppm" INTEGER NOT NULL,
    "rebuilt" BOOLEAN NOT NULL,
    "details" JSONB,

    CONSTRAINT "cache_checks_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "cache_outbox_next_attempt_at_idx" ON "cache_outbox"("next_attempt_at");

-- CreateIndex
CREATE INDEX "cache_checks_checked_at_idx" ON "cache_checks"("checked_at");

-- A product's name is part of its cached availability: a rename invalidates it too, without
-- every caller of upsertProduct having to remember to.
CREATE FUNCTION "cache_outbox_on_product_rename"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.name IS DISTINCT FROM OLD.name THEN
    INSERT INTO cache_outbox (sku) VALUES (NEW.sku);
  END IF;
  RETURN NEW;
END $$;

CREATE TRIGGER "products_cache_invalidate" AFTER UPDATE OF "name" ON "products"
  FOR EACH ROW EXECUTE FUNCTION "cache_outbox_on_product_rename"();
