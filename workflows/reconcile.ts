/**
 * Reconciliation, run by the Temporal Schedule `stockhold-reconciliation` (default hourly):
 * checks every level against the ledger, the holds, the transfers and the lots, and every
 * payment for settlement, and records what it found. It never changes stock; a payment
 * found unsettled is driven to settlement (the late-payment path).
 */
import { reconcileStock } from './activities-proxy';

export interface ReconcileResult {
  readonly runId: string;
  readonly clean: boolean;
  readonly drifts: number;
  readonly unsettledPayments: number;
}

/** `settleMinutes`: PAYMENT_SETTLE_MINUTES (default 5 for schedules created before it existed). */
export async function reconciliationWorkflow(settleMinutes = 5): Promise<ReconcileResult> {
  const report = await reconcileStock(settleMinutes);
  return {
    runId: report.runId,
    clean: report.clean,
    drifts: report.drifts.length,
    unsettledPayments: report.unsettledPayments.length,
  };
}
