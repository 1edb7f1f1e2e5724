/** One row per scenario: the figures the issue asks for, printed as a Markdown table. */
export interface Row {
  readonly scenario: string;
  readonly orders: number;
  readonly outcomes: Record<string, number>;
  readonly oversold: number;
  /** Payments the webhook accepted (2xx) whose `payments` row is missing or not settled. */
  readonly lost: number;
  /** Sagas not ended, holds past expiry, or (scenario-specific) ghost holds, at the end. */
  readonly stuck: number;
  /** From the end of the fault and the sale until every saga ended and the invariants held. */
  readonly recoverMs: number;
  /** Invariant violations, payments left PENDING, cache mismatches; must be empty. */
  readonly problems: string[];
  readonly notes?: string;
  /** Why the scenario was not run on this store (chaos/scenario.ts `notOn`): neither passed nor failed. */
  readonly skipped?: string;
}

export function passed(row: Row): boolean {
  return (
    row.skipped === undefined && row.oversold === 0 && row.lost === 0 && row.stuck === 0 && row.problems.length === 0
  );
}

const HEADER = ['scenario', 'orders', 'outcomes', 'oversold', 'lost', 'stuck', 'time to recover', 'result', 'notes'];

export function formatRow(row: Row): string {
  const outcomes = Object.entries(row.outcomes)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const cells = [
    row.scenario,
    String(row.orders),
    outcomes,
    String(row.oversold),
    String(row.lost),
    String(row.stuck),
    `${(row.recoverMs / 1000).toFixed(1)} s`,
    row.skipped !== undefined
      ? `SKIPPED: ${row.skipped}`
      : passed(row)
        ? 'PASS'
        : `FAIL: ${row.problems.join('; ') || 'see counts'}`,
    row.notes ?? '',
  ];
  return `| ${cells.join(' | ')} |`;
}

/** A row that ran and did not pass. */
export function failed(row: Row): boolean {
  return row.skipped === undefined && !passed(row);
}

export function formatHeader(): string {
  return `| ${HEADER.join(' | ')} |\n|${HEADER.map(() => ' --- ').join('|')}|`;
}
