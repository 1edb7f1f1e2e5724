/**
 * The unsettled-payment check, run by the Temporal Schedule `stockhold-payment-check`
 * (every PAYMENT_CHECK_INTERVAL): payments PENDING longer than PAYMENT_SETTLE_MINUTES are
 * alerted and driven to settlement. Reconciliation runs the same check.
 */
import { settleStalePayments } from './activities-proxy';

export interface PaymentCheckResult {
  readonly unsettled: number;
}

export async function paymentCheckWorkflow(settleMinutes: number): Promise<PaymentCheckResult> {
  const found = await settleStalePayments(settleMinutes);
  return { unsettled: found.length };
}
