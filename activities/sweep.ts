/**
 * The sweeper's work: release holds past expiry (plus a grace period) whose order workflow
 * is no longer running. A running workflow owns its hold and will release it itself.
 */
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { orderWorkflowId } from '../workflows/ids';
import type { Db } from './store/db';
import { findExpiredHolds } from './store/queries';
import { releaseStock } from './store/reservations';

const BATCH = 200;

export async function sweepExpiredHolds(db: Db, temporal: Client, graceSeconds: number) {
  let examined = 0;
  let released = 0;
  const skipped = new Set<string>();
  for (;;) {
    const holds = (await findExpiredHolds(db, graceSeconds, BATCH + skipped.size)).filter((h) => !skipped.has(h.id));
    if (holds.length === 0) break;
    for (const hold of holds) {
      examined += 1;
      if (await workflowRunning(temporal, orderWorkflowId(hold.orderId))) {
        skipped.add(hold.id);
        continue;
      }
      const outcome = await releaseStock(db, hold.id, 'SWEEPER');
      if (outcome.status === 'released') released += 1;
      Context.current().heartbeat({ examined, released });
    }
    if (holds.length < BATCH) break;
  }
  Context.current().log.info('sweep done', { examined, released });
  return { examined, released };
}

async function workflowRunning(temporal: Client, workflowId: string): Promise<boolean> {
  try {
    const description = await temporal.workflow.getHandle(workflowId).describe();
    return description.status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}
