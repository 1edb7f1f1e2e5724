/**
 * The bench's phases as the run strings them: the baselines, an ordering scenario until its
 * sagas have closed, and the CPU each process used while a phase ran.
 */
import { performance } from 'node:perf_hooks';
import type { Db } from '../data/db';
import { mariadbOf } from '../data/mariadb/db';
import { batchCosts, batchesSeen } from './batch-cost';
import { eventsCost } from './events-cost';
import { hotRowCeiling, pgbenchAnchor, workflowCeiling } from './baselines';
import { round, sellOut } from './load';
import { mariadbEventsCost } from './mariadb-events-cost';
import { batchesSeenOnMariadb, mariadbHotRowCeiling } from './mariadb-store';
import type { BenchOptions } from './options';
import { cpuByProcess, cpuByThread, cpuSeconds } from './profile';
import { sagaStats } from './sagas';
import { runFlashSale, runPlainOrders, waitAllClosed } from './scenario';
import type { BenchStack } from './stack';

export const say = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

/** Cores each process (and each thread of the API and worker) used while `work` ran (CPU seconds / wall seconds). */
export async function cores<T>(
  stack: BenchStack,
  work: () => Promise<T>,
): Promise<{
  result: T;
  cores: Record<string, number>;
  threads: Record<string, Record<string, number>>;
  seconds: number;
  /** The API's CPU seconds over `work` (utime + stime, unrounded): its cost per request. */
  apiCpuSeconds: number;
}> {
  const threadsOf = () => ({ api: cpuByThread(stack.pids.api), worker: cpuByThread(stack.pids.worker) });
  const before = cpuByProcess(stack.pids, stack.store);
  const threadsBefore = threadsOf();
  const started = performance.now();
  const apiBefore = cpuSeconds(stack.pids.api);
  const result = await work();
  const seconds = (performance.now() - started) / 1000;
  const apiCpuSeconds = cpuSeconds(stack.pids.api) - apiBefore;
  const after = cpuByProcess(stack.pids, stack.store);
  const threadsAfter = threadsOf();
  const rate = (a: Record<string, number>, b: Record<string, number>) =>
    Object.fromEntries(
      Object.keys(a)
        .map((k) => [k, round((a[k] - (b[k] ?? 0)) / seconds)])
        .filter(([, v]) => (v as number) >= 0.01),
    );
  return {
    result,
    seconds: round(seconds),
    apiCpuSeconds,
    cores: rate(after, before),
    threads: {
      api: rate(threadsAfter.api, threadsBefore.api),
      worker: rate(threadsAfter.worker, threadsBefore.worker),
    },
  };
}

export type Baselines = Awaited<ReturnType<typeof measureBaselines>>;
export type Scenario = Awaited<ReturnType<typeof flashSalePhase>>;

/** The ceilings of this run on this machine, and what one hold batch costs PostgreSQL. */
export async function measureBaselines(stack: BenchStack, db: Db, o: BenchOptions) {
  // First, while nothing writes (the setup's sagas closed): a change committed with the
  // triggers off would miss its event.
  await waitAllClosed(stack, db, o.ttlSeconds + 300, say);
  if (o.store === 'mariadb') return measureMariadbBaselines(stack, o);
  say(`events on vs off: ${o.eventsRounds} rounds of flash-sale and level hold batches (rolled back)`);
  const events = await eventsCost(o.databaseUrl, o.eventsRounds);
  const workflowCount = Math.min(o.units, 1000);
  say(`baseline: ${workflowCount} no-op Temporal workflows, ${Math.min(o.concurrency, 200)} at once`);
  const noopWorkflows = await workflowCeiling(
    stack.client,
    stack.temporalAddress,
    workflowCount,
    Math.min(o.concurrency, 200),
    o.closingNice,
  );
  say(
    `baseline: raw conditional UPDATE on one hot row, ${o.dbConnections} node-postgres connections, ${o.baselineSeconds}s`,
  );
  const rawHotRow = await hotRowCeiling(o.databaseUrl, o.baselineSeconds, o.dbConnections);
  const anchor = o.anchor ? await pgbenchAnchor(o.databaseUrl, o.baselineSeconds, o.dbConnections) : undefined;
  say('diagnostic: PostgreSQL work of one hold batch (rolled back)');
  const batchCost = await batchCosts(o.databaseUrl);
  return { noopWorkflows, rawHotRow, anchor, batchCost, events };
}

/**
 * The same ceilings with the service on MariaDB: the events on vs off around MariaDB's own hold
 * batch (bench/mariadb-events-cost.ts: the triggers dropped and created again), the no-op
 * workflows (store-independent), and MariaDB's own raw hot-row baseline, measured now on the
 * bench database. The hold batch's PostgreSQL work has no MariaDB form (the batch is a
 * procedure): `[]`, never a borrowed figure.
 */
async function measureMariadbBaselines(stack: BenchStack, o: BenchOptions) {
  say(
    `events on vs off: ${o.eventsRounds} rounds of flash-sale and level hold batches on MariaDB (triggers dropped and recreated; rolled back)`,
  );
  const events = await mariadbEventsCost(o.databaseUrl, o.eventsRounds);
  const workflowCount = Math.min(o.units, 1000);
  say(`baseline: ${workflowCount} no-op Temporal workflows, ${Math.min(o.concurrency, 200)} at once`);
  const noopWorkflows = await workflowCeiling(
    stack.client,
    stack.temporalAddress,
    workflowCount,
    Math.min(o.concurrency, 200),
    o.closingNice,
  );
  say(
    `baseline: raw conditional UPDATE on one hot row, MariaDB, ${o.dbConnections} connections, ${o.baselineSeconds}s`,
  );
  const rawHotRow = await mariadbHotRowCeiling(o.databaseUrl, o.baselineSeconds, o.dbConnections);
  return {
    noopWorkflows,
    rawHotRow,
    anchor: undefined as number | undefined,
    batchCost: [] as Awaited<ReturnType<typeof batchCosts>>,
    events,
  };
}

/** One ordering scenario, then until every saga has closed and every payment is settled. */
async function scenarioPhase(
  stack: BenchStack,
  db: Db,
  o: BenchOptions,
  run: () => ReturnType<typeof runFlashSale>,
  units: number,
  prefix: string,
) {
  const sale = await cores(stack, run);
  const out = sellOut(sale.result.load.samples, units);
  say(`${sale.result.winners.length} winners, ${sale.result.paid.length} paid; waiting for every saga to close`);
  const closing = await cores(stack, () => waitAllClosed(stack, db, o.ttlSeconds + 300, say));
  const sagas = await sagaStats(stack.client, db, sale.result.winners, sale.result.paid);
  const maria = mariadbOf(db);
  const batches =
    out &&
    (await (maria
      ? batchesSeenOnMariadb(maria, prefix, out.firstAdmission, out.soldOutAt)
      : batchesSeen(o.databaseUrl, prefix, out.firstAdmission, out.soldOutAt)));
  return { sale, out, closing, sagas, batches };
}

export const flashSalePhase = (stack: BenchStack, db: Db, o: BenchOptions) =>
  scenarioPhase(stack, db, o, () => runFlashSale(stack, o, say), o.units, 'b-');
export const plainPhase = (stack: BenchStack, db: Db, o: BenchOptions) =>
  scenarioPhase(stack, db, o, () => runPlainOrders(stack, o, say), o.plainUnits, 'p-');
