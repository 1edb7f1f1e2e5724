-- Two new alert kinds:
--   SAGA_PAST_EXPIRY: the sweeper found an order saga still running past its hold's expiry +
--     grace (one per hold: subject = the reservation id);
--   PAYMENT_UNSETTLED: a payment still PENDING PAYMENT_SETTLE_MINUTES after it arrived (one per
--     payment: subject = "<orderId>/<paymentId>").
ALTER TABLE "stock_alerts" DROP CONSTRAINT "stock_alerts_kind_known";
ALTER TABLE "stock_alerts" ADD CONSTRAINT "stock_alerts_kind_known"
  CHECK ("kind" IN ('NEAR_EXPIRY', 'EXPIRED', 'TRANSFER_OVERDUE', 'SAGA_PAST_EXPIRY', 'PAYMENT_UNSETTLED'));
