/**
 * Reconciliation, run by the Temporal Schedule `stockhold-reconciliation` (default hourly):
 * checks every level against the ledger, the holds, the transfers and the lots, and records
 * what it found. It never changes stock.
 */
import { reconcileStock } from './activities-proxy';

export interface ReconcileResult {
  readonly runId: string;
  readonly clean: boolean;
  readonly drifts: number;
}

export async function reconciliationWorkflow(): Promise<ReconcileResult> {
  const report = await reconcileStock();
  return { runId: report.runId, clean: report.clean, drifts: report.drifts.length };
}
