/**
 * The check every scenario ends with: on-hand = Σ ledger, reserved = Σ active holds, nothing
 * negative, nothing pending past expiry after the sweeper, no payment left PENDING, and the
 * cache equal to the database. On either store: the drift checks are the service's own
 * reconciliation (findDrifts dispatches to MariaDB's form), the other figures the probe's.
 */
import { loadViews } from '../data/cache/source';
import { eventually } from '../test/helpers/app';
import { invariantViolations } from '../test/helpers/db';
import { CHAOS_TASK_QUEUE, type Stack } from './stack';

export interface InvariantReport {
  readonly violations: unknown[];
  /** Units confirmed beyond what was received, over all levels. */
  readonly oversold: number;
  /** Holds still RESERVED past their expiry after the sweeper ran. */
  readonly stuckHolds: number;
  /** SKUs whose cached entry differs from the database once the outbox has drained. */
  readonly cacheMismatches: string[];
  /** `order/payment` of payments still PENDING once the sagas have had time to settle them. */
  readonly pendingPayments: string[];
}

/** How long settlements (late-payment workflows included) get after the sagas have ended. */
const SETTLE_WAIT_MS = 60_000;

async function cacheMismatches(stack: Stack): Promise<string[]> {
  await eventually(
    () => stack.probe.cacheOutboxCount(),
    (n) => n === 0,
    60_000,
  );
  const skus = await stack.probe.skus();
  const truth = await loadViews(stack.db, skus);
  const wrong: string[] = [];
  for (const sku of skus) {
    const cached = await stack.cache.get(sku);
    if (cached && JSON.stringify(cached.view) !== JSON.stringify(truth.get(sku)?.view)) wrong.push(sku);
  }
  return wrong;
}

/**
 * Every payment must reach a settled state by the sagas alone (the stack turns the backstop
 * off): waits for the table to have none PENDING, then names those that still are.
 */
async function pendingPayments(stack: Stack): Promise<string[]> {
  const pending = () => stack.probe.pendingPayments();
  return eventually(pending, (rows) => rows.length === 0, SETTLE_WAIT_MS).catch(() => pending());
}

export async function checkInvariants(stack: Stack): Promise<InvariantReport> {
  await stack.temporal.workflow.execute('sweeperWorkflow', {
    taskQueue: CHAOS_TASK_QUEUE,
    workflowId: `chaos-sweep-${Date.now()}`,
    args: [0],
  });
  const stuckHolds = await stack.probe.expiredHolds();
  return {
    violations: await invariantViolations(stack.db),
    oversold: await stack.probe.oversold(),
    stuckHolds,
    cacheMismatches: await cacheMismatches(stack),
    pendingPayments: await pendingPayments(stack),
  };
}
