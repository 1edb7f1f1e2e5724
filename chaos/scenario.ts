/** What every scenario shares: its size, and the closing count + invariant check. */
import { awaitEndings, countStatuses, TERMINAL } from './client';
import { checkInvariants } from './invariants';
import type { Stack } from './stack';
import type { Row } from './table';

/** How big a run is: the full suite (`npm run chaos`) or the reduced one inside `npm test`. */
export interface Size {
  readonly orders: number;
  readonly hostileRequests: number;
}

export interface Scenario {
  readonly name: string;
  run(stack: Stack, size: Size): Promise<Row>;
}

export interface Closing {
  readonly scenario: string;
  readonly base: string;
  readonly orderIds: readonly string[];
  /** Orders whose payment the service accepted: each must end confirmed or flagged for refund. */
  readonly paid: ReadonlySet<string>;
  /** When the fault and the sale were both over: recovery is timed from here. */
  readonly recoverFrom: number;
  readonly problems?: string[];
  readonly extraStuck?: number;
  readonly notes?: string;
}

function settled(state: Record<string, unknown> | undefined): boolean {
  if (!state) return false;
  if (state.status === 'CONFIRMED' || state.status === 'REFUND_REQUIRED') return true;
  const late = (state.latePayments as { result: string }[] | undefined) ?? [];
  return late.some((p) => p.result === 'CONFIRMED' || p.result === 'REFUND_REQUIRED');
}

export async function closeScenario(stack: Stack, c: Closing): Promise<Row> {
  const states = await awaitEndings(c.base, c.orderIds);
  const report = await checkInvariants(stack);
  const recoverMs = Date.now() - c.recoverFrom;
  const stuckSagas = c.orderIds.filter((id) => !TERMINAL.has(String(states.get(id)?.status))).length;
  const lost = [...c.paid].filter((id) => !settled(states.get(id))).length;
  const problems = [...(c.problems ?? [])];
  if (report.violations.length > 0) problems.push(`${report.violations.length} invariant violations: ${JSON.stringify(report.violations).slice(0, 300)}`);
  if (report.cacheMismatches.length > 0) problems.push(`cache differs from database for ${report.cacheMismatches.join(', ')}`);
  return {
    scenario: c.scenario,
    orders: c.orderIds.length,
    outcomes: countStatuses(states),
    oversold: report.oversold,
    lost,
    stuck: stuckSagas + report.stuckHolds + (c.extraStuck ?? 0),
    recoverMs,
    problems,
    notes: c.notes,
  };
}

/** Ids for one scenario's orders: `<prefix>-0`, `<prefix>-1`, ... */
export const orderIds = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
