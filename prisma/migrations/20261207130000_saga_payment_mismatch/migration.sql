-- Issue 16 item 2: reconciliation finds order sagas whose state disagrees with their payments
-- (a saga waiting BACKORDERED while PostgreSQL already settled its payment CONFIRMED or
-- REFUND_REQUIRED: the fulfilment's signal was lost). Each is recorded on the run and raised
-- once as a SAGA_PAYMENT_MISMATCH alert (subject = the order id).
ALTER TABLE "reconciliation_runs" ADD COLUMN "saga_mismatches" JSONB NOT NULL DEFAULT '[]';
ALTER TABLE "stock_alerts" DROP CONSTRAINT "stock_alerts_kind_known";
ALTER TABLE "stock_alerts" ADD CONSTRAINT "stock_alerts_kind_known"
  CHECK ("kind" IN ('NEAR_EXPIRY', 'EXPIRED', 'TRANSFER_OVERDUE', 'SAGA_PAST_EXPIRY', 'PAYMENT_UNSETTLED', 'RELEASE_FAILED', 'PAYMENT_UNKNOWN_ORDER', 'SAGA_PAYMENT_MISMATCH'));
