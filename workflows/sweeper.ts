/**
 * The backstop: run by a Temporal Schedule, releases holds past expiry whose order workflow
 * is gone (terminated, or lost with a broken history). Healthy sagas release their own holds;
 * this only catches what escaped them.
 */
import { sweepExpiredHolds } from './activities-proxy';

export interface SweepResult {
  readonly examined: number;
  readonly released: number;
}

export async function sweeperWorkflow(graceSeconds: number): Promise<SweepResult> {
  return sweepExpiredHolds(graceSeconds);
}
