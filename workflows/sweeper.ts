/**
 * The backstop: run by a Temporal Schedule, releases holds past expiry whose order workflow
 * is gone (terminated, or lost with a broken history), and reports those whose workflow is
 * still running past expiry + grace (alert and gauge). Healthy sagas release their own
 * holds; this only catches what escaped them.
 */
import { patched } from '@temporalio/workflow';
import { deliverAlertsBounded, sweepExpiredHolds } from './activities-proxy';

import type { SweepResult } from '../domain/reports';

/**
 * Patch ids of this workflow (CONTRIBUTING.md "Changing workflow code"): each guards a change to its
 * command sequence, so runs recorded before the change still replay.
 */
export const SweeperPatch = {
  /** Pushes pending alerts (the SAGA_PAST_EXPIRY ones it raised, and any other) after the sweep. */
  DELIVERS_ALERTS: 'sweeper-delivers-alerts',
} as const;

export async function sweeperWorkflow(graceSeconds: number): Promise<SweepResult> {
  const result = await sweepExpiredHolds(graceSeconds);
  if (patched(SweeperPatch.DELIVERS_ALERTS)) {
    // A webhook that is down must not hold up the backstop: what is not delivered stays
    // pending for the next sweep or the expiry check.
    await deliverAlertsBounded().catch(() => 0);
  }
  return result;
}
