/**
 * `npm run bench`: the flash-sale benchmark with its baselines, in one run on this machine.
 * Prints progress, a table of targets, and writes a JSON report whose `summary` outside tools
 * read; exits non-zero when a check fails.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createDb } from '../data/db';
import { setup } from './setup';
import { httpCeiling } from './baselines';
import { runChecks } from './checks';
import { byOutcome, round, serverErrors, type Sample } from './load';
import { parseOptions, USAGE, type BenchOptions } from './options';
import { busyShare, watchMachine } from './machine';
import { cores, flashSalePhase, measureBaselines, plainPhase, say } from './phases';
import { cpuSeconds, summariseDir } from './profile';
import { printReport, targets } from './report';
import { printDetail, printProfiles } from './report-detail';
import { runRejects, waitAllClosed, warmUp } from './scenario';
import { startStack } from './stack';
import {
  backendPinner,
  checkLayout,
  MARIADB_PRODUCTION_LAYOUT,
  mariadbServerPinner,
  pin,
  PRODUCTION_LAYOUT,
  type Layout,
  type StorePinner,
} from './layout';
import { EventSubscriber } from './event-subscriber';
import { buildSummary, phaseDetail } from './summary';
import { runSustained, sustainedFigures, SUSTAINED_PREFIX } from './sustained';

/** What a MariaDB report says about the keys it leaves null or measures its own way. */
const MARIADB_NOTES = [
  "eventsOverheadRatio (baselines.eventsCost) is MariaDB's own: CALL stockhold_hold_batch with the event triggers it fires dropped (off) and created again from SHOW CREATE TRIGGER (on), alternating; each batch rolled back by its own saga outbox INSERT meeting a row the bench put there (the rollback is in the time, the commit is not)",
  "eventLagP99Ms, eventsDelivered, eventsExpected (eventSubscriber): the same subscriber as on PostgreSQL, through POST /admin/event-subscriptions, the worker's webhook dispatcher reading MariaDB's events, and GET /events",
  "rawHotRowUpdatesPerSecond is MariaDB's own: one prepared conditional UPDATE per autocommit transaction on a one-row table, same run, same bench database",
  "baselines.holdBatchCost is null (a PostgreSQL diagnostic); the batches seen are grouped by the holds' created_at as on PostgreSQL",
  'no pgbench anchor; --taskset pins the whole MariaDB server to CPU 1 for its run (bench/layout.ts)',
];

/** The report's `layout` when nothing is pinned. */
const DEFAULT_LAYOUT = 'default: the OS places every process on any CPU';

/** One run on one layout (none: the OS places every process); false when a check failed. */
async function runOnce(o: BenchOptions, layout?: Layout): Promise<boolean> {
  const runStarted = performance.now();
  const reportFile = reportPath(o.report, layout);
  // The load generator first: what it starts from here on inherits its CPU (bench/layout.ts).
  if (layout) pin(process.pid, layout.restCpu);
  let pinner: StorePinner | undefined;
  // How busy the machine is before anything of ours runs, then a sample every second (honest figures).
  const watch = watchMachine(await busyShare(3000), 1000, () => void pinner?.sweep(), o.store);
  say(
    `starting the stack (${o.store === 'mariadb' ? 'MariaDB ' : ''}scratch database ${new URL(o.databaseUrl).pathname.slice(1)}, TTL ${o.ttlSeconds}s)`,
  );
  const stack = await startStack({
    ttlSeconds: o.ttlSeconds,
    databaseUrl: o.databaseUrl,
    redisUrl: o.redisUrl,
    profileDir: o.profileDir,
    closingNice: o.closingNice,
  });
  if (layout) {
    pin(stack.pids.api, layout.apiCpu);
    pinner =
      o.store === 'mariadb'
        ? await mariadbServerPinner(o.databaseUrl, layout.restCpu)
        : backendPinner(o.databaseUrl, layout.restCpu);
    await pinner.sweep();
    say(`layout: ${layout.label}`);
  }
  const db = createDb(o.databaseUrl, { maxConnections: 10 });
  let passed = false;
  try {
    await setup(stack, db, o);
    const baselines = await measureBaselines(stack, db, o);
    say('warming the API up (refusals only)');
    await warmUp(stack, o);
    await waitAllClosed(stack, db, o.ttlSeconds + 300, say);
    // A subscriber hears the sale's events through the worker's webhook dispatcher (issue 18),
    // on either store: the subscription routes and the dispatcher read the store's own events.
    const subscriber = await EventSubscriber.start(stack);
    const flash = await flashSalePhase(stack, db, o);
    const eventLag = await subscriber.finish(o.eventsWaitSeconds, say);
    // The pure reject path, then the no-op route right after it under the same conditions.
    const apiCpuBefore = cpuSeconds(stack.pids.api);
    const rejects = await runRejects(stack, o, say);
    const rejectCpuMicros = ((cpuSeconds(stack.pids.api) - apiCpuBefore) * 1e6) / rejects.samples.length;
    say(`baseline: no-op Fastify route, ${o.rejectAttempts} requests at concurrency ${o.concurrency}`);
    const noopRoute = await httpCeiling(
      o.rejectAttempts,
      o.concurrency,
      layout ? (pid) => pin(pid, layout.apiCpu) : undefined,
    );
    const plain = await plainPhase(stack, db, o);
    // Winners only, each paid as it answers: the payment webhook under the same load.
    const sustained = await cores(stack, () => runSustained(stack, o, say));
    const sustainedClosing = await cores(stack, () => waitAllClosed(stack, db, o.ttlSeconds + 300, say));
    const sustainedSamples = [...sustained.result.load.samples, ...sustained.result.payments];
    const samples: Sample[] = [flash, plain]
      .flatMap((p) => [...p.sale.result.load.samples, ...p.sale.result.payments])
      .concat(rejects.samples, sustainedSamples);
    const failures = await runChecks(
      db,
      stack.client,
      { units: o.units, plainUnits: o.plainUnits, sustainedUnits: o.sustainedAttempts },
      samples,
    );
    // Every delivery is signed (a consumer verifies before it parses); lag alone is no failure.
    if (eventLag.badSignatures > 0)
      failures.push(`${eventLag.badSignatures} event deliveries with a missing or bad signature`);
    const machineLoad = watch.stop();
    const sustainedCpuMicros = (sustained.apiCpuSeconds * 1e6) / sustainedFigures(sustained.result).requestsAnswered;
    const summary = buildSummary(
      baselines,
      flash,
      plain,
      rejects,
      noopRoute,
      sustained.result,
      failures,
      machineLoad,
      {
        winner: sustainedCpuMicros,
        reject: rejectCpuMicros,
        noop: noopRoute.cpuMicrosPerRequest,
      },
      eventLag,
    );
    const list = targets(summary, o);
    const full = {
      ...(o.store === 'mariadb' ? { store: o.store, notes: MARIADB_NOTES } : {}),
      layout: layout?.label ?? DEFAULT_LAYOUT,
      summary,
      targets: list,
      noisy: machineLoad.noisy,
      date: new Date().toISOString(),
      runSeconds: round((performance.now() - runStarted) / 1000, 1),
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model,
        memoryGiB: round(os.totalmem() / 2 ** 30, 1),
        node: process.version,
        loadAverage: os.loadavg().map((l) => round(l)),
        load: machineLoad,
      },
      options: o,
      baselines: {
        rawHotRowUpdatesPerSecond: round(baselines.rawHotRow),
        pgbenchRawHotRowTps: baselines.anchor === undefined ? null : round(baselines.anchor),
        noopRouteRps: round(noopRoute.rps),
        noopRouteP99Ms: round(noopRoute.p99),
        noopRouteCpuMicrosPerRequest: round(noopRoute.cpuMicrosPerRequest, 1),
        noopWorkflowsPerSecond: round(baselines.noopWorkflows),
        holdBatchCost: o.store === 'mariadb' ? null : baselines.batchCost,
        eventsCost: baselines.events,
      },
      flashSale: phaseDetail(flash, o.attempts),
      eventSubscriber: eventLag,
      rejectPath: {
        seconds: round(rejects.seconds),
        latencyMs: byOutcome(rejects.samples),
        apiCpuMicrosPerRequest: round(rejectCpuMicros, 1),
      },
      plainOrders: {
        ...phaseDetail(plain, o.plainAttempts),
        refusalsAfterSellOut: plain.sale.result.load.samples.filter(
          (s) => s.outcome === '409 INSUFFICIENT_STOCK' && plain.out && s.sentAt >= plain.out.soldOutAt,
        ).length,
      },
      sustainedWinners: {
        attempts: o.sustainedAttempts,
        prefix: SUSTAINED_PREFIX,
        winners: sustained.result.winners.length,
        paid: sustained.result.paid.length,
        ordersSeconds: round(sustained.result.load.seconds),
        apiCpuMicrosPerRequest: round(sustainedCpuMicros, 1),
        webhooksUnderLoad: sustainedFigures(sustained.result).webhooksUnderLoad,
        latencyMs: byOutcome(sustainedSamples),
        serverErrors: serverErrors(sustainedSamples),
        cpuCores: {
          orders: sustained.cores,
          ordersSeconds: sustained.seconds,
          closing: sustainedClosing.cores,
          closingSeconds: sustainedClosing.seconds,
        },
      },
      failures,
    };
    printReport(summary, list, {
      layout: full.layout,
      rawAnchor: baselines.anchor,
      sagaStartLagP99Ms: summary.sagaStartLagP99Ms,
      allSagasClosedSeconds: summary.allSagasClosedSeconds,
      machine: machineLoad,
    });
    printDetail(full, o.store);
    console.log(
      `CPU per request (process CPU time / requests answered): API on the reject path ${summary.rejectCpuMicros} µs, ` +
        `sustained winners (orders and their payments) ${summary.winnerCpuMicros} µs, flash sale ${full.flashSale.apiCpuMicrosPerRequest} µs, ` +
        `plain orders ${full.plainOrders.apiCpuMicrosPerRequest} µs; no-op route ${summary.noopCpuMicros} µs`,
    );
    const ev = baselines.events;
    if (ev)
      console.log(
        `events on vs off, hold batches of ${ev.batchSize} (median ms, rolled back): flash sale ${ev.campaign.medianMsOn} on / ${ev.campaign.medianMsOff} off (${ev.campaign.ratio}); level ${ev.level.medianMsOn} / ${ev.level.medianMsOff} (${ev.level.ratio})`,
      );
    if (o.store === 'mariadb') console.log(`MariaDB: ${MARIADB_NOTES.join('; ')}\n`);
    else
      console.log(
        `hold batch, PostgreSQL work (rolled back, commit excluded): ${baselines.batchCost.map((b) => `${b.kind} ${b.outcome} ×${b.size} ${b.medianMs} ms`).join('; ')}\n`,
      );
    mkdirSync(path.dirname(reportFile), { recursive: true });
    writeFileSync(reportFile, JSON.stringify(full, null, 2));
    say(`report written to ${reportFile} (run took ${full.runSeconds}s)`);
    if (failures.length > 0) {
      for (const f of failures) console.error(`CHECK FAILED: ${f}`);
    } else say('all checks passed: nothing oversold, every saga closed, every payment settled, invariants hold');
    passed = failures.length === 0;
  } finally {
    await db.$disconnect();
    await stack.stop();
    await pinner?.close();
  }
  if (o.profileDir) printProfiles(summariseDir(o.profileDir));
  return passed;
}

/** `.data/bench-report.json`, or `.data/bench-report.taskset.json` for the production layout. */
const reportPath = (file: string, layout?: Layout) => (layout ? file.replace(/(\.json)?$/, '.taskset.json') : file);

async function main(): Promise<void> {
  if (process.argv.includes('--help')) return console.log(USAGE);
  const o = parseOptions(process.argv.slice(2), process.env);
  const production = o.store === 'mariadb' ? MARIADB_PRODUCTION_LAYOUT : PRODUCTION_LAYOUT;
  if (o.taskset) checkLayout(production);
  let passed = await runOnce(o);
  if (o.taskset) {
    say(`second run, ${production.label}`);
    passed = (await runOnce(o, production)) && passed;
  }
  if (!passed) process.exitCode = 1;
}

main().catch((err) => {
  console.error(`[bench] ${(err as Error).stack ?? err}`);
  process.exit(1);
});
