-- A new alert kind, RELEASE_FAILED: the sweeper could not release an expired hold because
-- PostgreSQL refused the release for good (a data error: a level or lot that no longer
-- satisfies its CHECK, say). One per hold: subject = the reservation id. The sweeper goes on
-- with the other holds instead of failing the whole sweep on the same hold every time.
ALTER TABLE "stock_alerts" DROP CONSTRAINT "stock_alerts_kind_known";
ALTER TABLE "stock_alerts" ADD CONSTRAINT "stock_alerts_kind_known"
  CHECK ("kind" IN ('NEAR_EXPIRY', 'EXPIRED', 'TRANSFER_OVERDUE', 'SAGA_PAST_EXPIRY', 'PAYMENT_UNSETTLED', 'RELEASE_FAILED'));
