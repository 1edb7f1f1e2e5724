/** What every scenario shares: its size, and the closing count + invariant check. */
import { awaitEndings, countStatuses, paymentIdOf, TERMINAL } from './client';
import { checkInvariants } from './invariants';
import type { Stack } from './stack';
import type { Store } from './store-probe';
import type { Row } from './table';

/** How big a run is: the full suite (`npm run chaos`) or the reduced one inside `npm test`. */
export interface Size {
  readonly orders: number;
  readonly hostileRequests: number;
}

export interface Scenario {
  readonly name: string;
  /**
   * Stores this scenario has no meaning on yet, with the reason: the suite lists it there as
   * skipped (never as passed) and does not run it.
   */
  readonly notOn?: Partial<Record<Store, string>>;
  run(stack: Stack, size: Size): Promise<Row>;
}

export interface Closing {
  readonly scenario: string;
  readonly base: string;
  readonly orderIds: readonly string[];
  /** Orders whose payment the webhook accepted (2xx): each payment must end settled in PostgreSQL. */
  readonly paid: ReadonlySet<string>;
  /** When the fault and the sale were both over: recovery is timed from here. */
  readonly recoverFrom: number;
  readonly problems?: string[];
  readonly extraStuck?: number;
  /** How long the sagas get to end (default: awaitEndings's 2 minutes); a scenario that waited already says less. */
  readonly endingsTimeoutMs?: number;
  readonly notes?: string;
}

/**
 * Payments the webhook answered 2xx for whose `payments` row is missing or still PENDING:
 * the database, not the saga's answer, says whether a payment was settled.
 */
async function lostPayments(stack: Stack, paid: ReadonlySet<string>): Promise<string[]> {
  const ids = [...paid];
  const rows = await stack.probe.paymentsOf(ids);
  const settled = new Set(
    rows.filter((r) => r.state !== 'PENDING' && r.paymentId === paymentIdOf(r.orderId)).map((r) => r.orderId),
  );
  return ids.filter((id) => !settled.has(id));
}

export async function closeScenario(stack: Stack, c: Closing): Promise<Row> {
  const states = await awaitEndings(c.base, c.orderIds, c.endingsTimeoutMs);
  const report = await checkInvariants(stack);
  const recoverMs = Date.now() - c.recoverFrom;
  const stuck = c.orderIds.filter((id) => !TERMINAL.has(String(states.get(id)?.status)));
  const stuckSagas = stuck.length;
  const lost = await lostPayments(stack, c.paid);
  const problems = [...(c.problems ?? [])];
  if (stuck.length > 0)
    problems.push(
      `${stuck.length} orders not ended by GET /orders/:id: ${stuck
        .slice(0, 5)
        .map((id) => `${id} → ${lastAnswer(states.get(id))}`)
        .join('; ')}`,
    );
  if (lost.length > 0) problems.push(`accepted but not settled: ${lost.slice(0, 5).join(', ')}`);
  if (report.pendingPayments.length > 0)
    problems.push(
      `${report.pendingPayments.length} payments still PENDING: ${report.pendingPayments.slice(0, 5).join(', ')}`,
    );
  if (report.violations.length > 0)
    problems.push(
      `${report.violations.length} invariant violations: ${JSON.stringify(report.violations).slice(0, 300)}`,
    );
  if (report.cacheMismatches.length > 0)
    problems.push(`cache differs from database for ${report.cacheMismatches.join(', ')}`);
  return {
    scenario: c.scenario,
    orders: c.orderIds.length,
    outcomes: countStatuses(states),
    oversold: report.oversold,
    lost: lost.length,
    stuck: stuckSagas + report.stuckHolds + (c.extraStuck ?? 0),
    recoverMs,
    problems,
    notes: c.notes,
  };
}

/** What GET /orders/:id last said: the status, or the error's code and message. */
function lastAnswer(state: Record<string, unknown> | undefined): string {
  if (state === undefined) return 'no answer';
  if (state.status !== undefined) return String(state.status);
  return `${String(state.code ?? 'no status')}: ${String(state.message ?? JSON.stringify(state)).slice(0, 160)}`;
}

/** Ids for one scenario's orders: `<prefix>-0`, `<prefix>-1`, ... */
export const orderIds = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
