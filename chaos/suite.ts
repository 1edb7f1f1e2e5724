/** The scenarios in running order, and the loop that runs them on one stack and prints the table. */
import type { Scenario, Size } from './scenario';
import { duplicateCallbacks } from './scenarios/duplicate-callbacks';
import { eventsDelivered } from './scenarios/events-delivered';
import { pgTerminated, redisKilled, temporalRestarted, workerKilled } from './scenarios/faults';
import { hostileInput } from './scenarios/hostile-input';
import { latePayment } from './scenarios/late-payment';
import { lockContention } from './scenarios/lock-contention';
import { paymentEndings } from './scenarios/payment-endings';
import { paymentEndingsStarved } from './scenarios/payment-endings-starved';
import { preSalePaidAtRelease } from './scenarios/pre-sale-release';
import { temporalDownAcrossExpiry } from './scenarios/temporal-down-expiry';
import { startStack, type Stack, type StackStore } from './stack';
import { formatHeader, formatRow, type Row } from './table';

export const scenarios: readonly Scenario[] = [
  duplicateCallbacks,
  lockContention,
  latePayment,
  hostileInput,
  redisKilled,
  pgTerminated,
  workerKilled,
  temporalRestarted,
  paymentEndings,
  temporalDownAcrossExpiry,
  preSalePaidAtRelease,
  paymentEndingsStarved,
  eventsDelivered,
];

/** The full suite (`npm run chaos`) and the reduced one run by `npm test`. */
export const FULL: Size = { orders: 500, hostileRequests: 10_000 };
export const REDUCED: Size = { orders: 40, hostileRequests: 600 };

/** One stack the scenarios run on in turn: `npm test` runs each scenario as its own test on it. */
export interface OpenSuite {
  readonly stack: Stack;
  /** Runs one scenario (or lists it as skipped on this store); a scenario that throws is a failed row. */
  run(scenario: Scenario): Promise<Row>;
  stop(): Promise<void>;
}

export async function openSuite(size: Size, on: StackStore = { store: 'postgresql' }): Promise<OpenSuite> {
  const stack = await startStack(size.orders, on);
  return {
    stack,
    run: async (scenario) => {
      const reason = scenario.notOn?.[stack.store];
      if (reason !== undefined) return skippedRow(scenario, reason);
      return scenario.run(stack, size).catch((err: Error) => crashed(scenario, err));
    },
    stop: () => stack.stop(),
  };
}

export async function runSuite(
  size: Size,
  print: (line: string) => void,
  only?: (s: Scenario) => boolean,
  on: StackStore = { store: 'postgresql' },
): Promise<Row[]> {
  const suite = await openSuite(size, on);
  const rows: Row[] = [];
  try {
    print(formatHeader());
    for (const scenario of scenarios.filter(only ?? (() => true))) {
      const row = await suite.run(scenario);
      rows.push(row);
      print(formatRow(row));
    }
  } finally {
    await suite.stop();
  }
  return rows;
}

function skippedRow(scenario: Scenario, reason: string): Row {
  return {
    scenario: scenario.name,
    orders: 0,
    outcomes: {},
    oversold: 0,
    lost: 0,
    stuck: 0,
    recoverMs: 0,
    problems: [],
    skipped: reason,
  };
}

function crashed(scenario: Scenario, err: Error): Row {
  return {
    scenario: scenario.name,
    orders: 0,
    outcomes: {},
    oversold: 0,
    lost: 0,
    stuck: 0,
    recoverMs: 0,
    problems: [`scenario crashed: ${err.stack ?? err.message}`],
  };
}
