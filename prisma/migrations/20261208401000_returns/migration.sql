-- Issue 19 item 3: returns with a disposition. One row per line of a return (POST /admin/returns),
-- written in the return's transaction with its ledger rows: what came back of each order, so a
-- return takes at most what was sold minus what came back before. The return's first answer is
-- its fence (operation RETURN, serial `admin:<returnId>`).
CREATE TABLE "return_lines" (
    "return_id" TEXT NOT NULL,
    "line_no" INTEGER NOT NULL,
    "order_id" TEXT NOT NULL,
    "sku" TEXT NOT NULL,
    "warehouse_code" TEXT NOT NULL,
    "lot_code" TEXT,
    "quantity" INTEGER NOT NULL,
    "disposition" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "return_lines_pkey" PRIMARY KEY ("return_id", "line_no"),
    CONSTRAINT "return_lines_quantity_pos" CHECK ("quantity" > 0),
    CONSTRAINT "return_lines_disposition_known" CHECK ("disposition" IN ('RESTOCK', 'DAMAGED', 'QC_HOLD', 'WRITE_OFF'))
);
CREATE INDEX "return_lines_order_id_idx" ON "return_lines"("order_id");
