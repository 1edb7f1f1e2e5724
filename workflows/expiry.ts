/**
 * Perishables check, run by the Temporal Schedule `stockhold-expiry-check` (default hourly):
 * raise near-expiry/expired alerts (once per lot and kind), write off lots past their
 * removal date through the ledger, then push undelivered alerts to the webhook, if any.
 */
import { workflowInfo } from '@temporalio/workflow';
import { deliverAlerts, raiseExpiryAlerts, writeOffExpiredLots } from './activities-proxy';

export interface ExpiryCheckResult {
  readonly alertsRaised: number;
  readonly lotsWrittenOff: number;
  readonly unitsWrittenOff: number;
  readonly alertsDelivered: number;
}

export async function expiryWorkflow(): Promise<ExpiryCheckResult> {
  // Alerts first, so a lot written off in this run has its EXPIRED alert.
  const alertsRaised = await raiseExpiryAlerts();
  // The run id fences the write-off: an activity retry writes nothing off twice.
  const { lots, units } = await writeOffExpiredLots(workflowInfo().runId);
  const alertsDelivered = await deliverAlerts();
  return { alertsRaised, lotsWrittenOff: lots, unitsWrittenOff: units, alertsDelivered };
}
