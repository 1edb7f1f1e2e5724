-- The sweeper reports an order saga still running past its hold's expiry + grace
-- (SAGA_PAST_EXPIRY, one per hold: subject = the reservation id).
ALTER TABLE "stock_alerts" DROP CONSTRAINT "stock_alerts_kind_known";
ALTER TABLE "stock_alerts" ADD CONSTRAINT "stock_alerts_kind_known"
  CHECK ("kind" IN ('NEAR_EXPIRY', 'EXPIRED', 'TRANSFER_OVERDUE', 'SAGA_PAST_EXPIRY'));
