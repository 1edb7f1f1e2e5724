/**
 * `npm run bench`: the flash-sale benchmark with its baselines, in one run on this machine.
 * Prints progress, a table, and writes a JSON report; exits non-zero when a check fails.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { upsertProduct, upsertWarehouse } from '../activities/store/catalog';
import { receiveStock } from '../activities/store/stock-admin';
import { createDb, type Db } from '../activities/store/db';
import { findDrifts } from '../activities/store/reconcile';
import { createCampaign, reserveFromCampaign } from '../activities/store/campaigns';
import { reserveStock } from '../activities/store/reservations';
import { httpCeiling, hotRowCeiling, workflowCeiling } from './baselines';
import { byOutcome, round } from './load';
import { cpuByProcess, summariseDir } from './profile';
import { parseOptions, USAGE, type BenchOptions } from './options';
import { signPayload } from '../api/routes/webhooks/signature';
import { CAMPAIGN, runFlashSale, SOLD_OUT_CAMPAIGN, type ScenarioResult } from './scenario';
import { startStack, type BenchStack } from './stack';

const say = (line: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

async function setup(stack: BenchStack, db: Db, o: BenchOptions): Promise<void> {
  await upsertWarehouse(db, 'W1', 'Bench warehouse');
  for (const sku of ['FLASH', 'HOT-RESERVE']) {
    await upsertProduct(db, sku, sku);
    await receiveStock(db, { idempotencyKey: `bench-${sku}`, sku, warehouseCode: 'W1', quantity: sku === 'FLASH' ? o.units * 2 : 10_000_000, reason: 'bench' });
  }
  const res = await fetch(`${stack.base}/admin/campaigns`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.adminToken}` },
    body: JSON.stringify({ id: CAMPAIGN, sku: 'FLASH', warehouseCode: 'W1', startsAt: new Date(Date.now() - 1000).toISOString(), endsAt: new Date(Date.now() + 3600_000).toISOString(), quota: o.units, perUserLimit: 2 }),
  });
  if (res.status !== 201) throw new Error(`campaign not created: ${res.status} ${await res.text()}`);
  await sellOut(stack);
}

/** A one-unit campaign, bought and paid for, so its gate answers SOLD_OUT with no saga running. */
async function sellOut(stack: BenchStack): Promise<void> {
  const json = { 'content-type': 'application/json' };
  const admin = { ...json, authorization: `Bearer ${stack.adminToken}` };
  const now = Date.now();
  await fetch(`${stack.base}/admin/campaigns`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ id: SOLD_OUT_CAMPAIGN, sku: 'FLASH', warehouseCode: 'W1', startsAt: new Date(now - 1000).toISOString(), endsAt: new Date(now + 3600_000).toISOString(), quota: 1, perUserLimit: 1 }),
  });
  const won = await fetch(`${stack.base}/campaigns/${SOLD_OUT_CAMPAIGN}/orders`, { method: 'POST', headers: json, body: JSON.stringify({ orderId: 'sold-out-1', userId: 'early-bird', quantity: 1 }) });
  if (won.status !== 201) throw new Error(`sell-out order not placed: ${won.status} ${await won.text()}`);
  const body = JSON.stringify({ eventId: 'ev-sold-out-1', type: 'payment.succeeded', orderId: 'sold-out-1', paymentId: 'pay-sold-out-1', amountCents: 1 });
  const ts = Math.floor(Date.now() / 1000);
  await fetch(`${stack.base}/webhooks/payments`, { method: 'POST', headers: { ...json, 'x-signature-timestamp': String(ts), 'x-signature': signPayload(stack.webhookSecret, ts, body) }, body });
}

/**
 * Reserves/s of the reserve step's database work (fence, user count, pool, reservation) on
 * one hot row: the flash-sale reserve the saga runs, on a campaign of its own; and, for
 * comparison, a regular order's reserve on one hot level.
 */
async function reserveRates(db: Db, seconds: number, concurrency: number): Promise<{ flash: number; regular: number }> {
  await createCampaign(db, { id: 'bench-hot', kind: 'FLASH_SALE', sku: 'HOT-RESERVE', warehouseCode: 'W1', startsAt: new Date(Date.now() - 1000).toISOString(), endsAt: new Date(Date.now() + 3600_000).toISOString(), quota: 5_000_000, perUserLimit: 1 });
  const expiresAt = new Date(Date.now() + 3600_000).toISOString();
  const line = { sku: 'HOT-RESERVE', warehouseCode: 'W1', quantity: 1 };
  const rate = async (step: (id: string) => Promise<unknown>) => {
    let ops = 0;
    let next = 0;
    const deadline = performance.now() + seconds * 1000;
    const loop = async () => {
      while (performance.now() < deadline) {
        await step(`hot-${next++}-${Math.random().toString(36).slice(2, 8)}`);
        ops += 1;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: concurrency }, loop));
    return ops / ((performance.now() - started) / 1000);
  };
  const flash = await rate((id) => reserveFromCampaign(db, { reservationId: id, orderId: id, userId: id, campaignId: 'bench-hot', expiresAt, lines: [line] }));
  const regular = await rate((id) => reserveStock(db, { reservationId: id, orderId: id, userId: 'bench', expiresAt, lines: [line] }));
  return { flash, regular };
}

async function verify(db: Db, o: BenchOptions, s: ScenarioResult): Promise<string[]> {
  const failures: string[] = [];
  const sold = await db.$queryRaw<{ units: number }[]>`
    SELECT COALESCE(SUM(l.quantity), 0)::int AS units FROM reservations r JOIN reservation_lines l ON l.reservation_id = r.id
     WHERE r.campaign_id = ${CAMPAIGN} AND r.status = 'CONFIRMED'`;
  if (sold[0].units !== s.paid) failures.push(`sold ${sold[0].units} units but ${s.paid} were paid for`);
  if (sold[0].units > o.units) failures.push(`OVERSOLD: ${sold[0].units} > ${o.units}`);
  const stuck = await db.reservation.count({ where: { status: 'RESERVED', campaignId: CAMPAIGN } });
  if (stuck > 0) failures.push(`${stuck} holds still open`);
  const broken = (await findDrifts(db)).drifts;
  if (broken.length > 0) failures.push(`invariants broken: ${JSON.stringify(broken)}`);
  const errors = [...s.attack.samples, ...s.rejects.samples, ...s.quietRejects.samples].filter((x) => x.outcome.startsWith('5') && !x.outcome.startsWith('503'));
  if (errors.length > 0) failures.push(`${errors.length} server errors`);
  return failures;
}

async function main(): Promise<void> {
  if (process.argv.includes('--help')) return console.log(USAGE);
  const o = parseOptions(process.argv.slice(2), process.env);
  say(`starting the stack (scratch database ${new URL(o.databaseUrl).pathname.slice(1)}, TTL ${o.ttlSeconds}s)`);
  const stack = await startStack({ ttlSeconds: o.ttlSeconds, databaseUrl: o.databaseUrl, redisUrl: o.redisUrl, profileDir: o.profileDir });
  const db = createDb(o.databaseUrl, { maxConnections: 10 });
  try {
    await setup(stack, db, o);
    say('baseline: no-op Temporal workflow');
    const workflows = await workflowCeiling(stack.client, stack.temporalAddress, Math.min(o.units, 2000), Math.min(o.concurrency, 200));
    say('baseline: raw conditional UPDATE on one hot row (10 connections)');
    const hotRow = await hotRowCeiling(o.databaseUrl, o.baselineSeconds, 10);
    say('reserve step database work on one hot row (10 connections)');
    const reserve = await reserveRates(db, o.baselineSeconds, 10);

    const cpuBefore = cpuByProcess(stack.pids);
    const wallStart = performance.now();
    const s = await runFlashSale(stack, db, o, say);
    const cpuAfter = cpuByProcess(stack.pids);
    const wall = (performance.now() - wallStart) / 1000;
    const cpu = Object.fromEntries(Object.keys(cpuAfter).map((k) => [k, round((cpuAfter[k] - cpuBefore[k]) / wall, 2)]));
    // Measured like the quiet reject path just before it: same load generator, quiet machine.
    say('baseline: no-op Fastify route');
    const http = await httpCeiling(o.rejectAttempts || 5000, o.concurrency);
    const failures = await verify(db, o, s);
    const report = { ...buildReport(o, s, { http, workflows, hotRow, reserve }, failures), cpuCoresUsedDuringScenario: cpu };
    printTable(report);
    console.log(`CPU cores used during the scenario (of ${os.cpus().length}): ${Object.entries(cpu).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
    mkdirSync(path.dirname(o.report), { recursive: true });
    writeFileSync(o.report, JSON.stringify(report, null, 2));
    say(`report written to ${o.report}`);
    if (failures.length > 0) {
      for (const f of failures) console.error(`CHECK FAILED: ${f}`);
      process.exitCode = 1;
    } else say('all checks passed: nothing oversold, nothing lost, nothing stuck, invariants hold');
  } finally {
    await db.$disconnect();
    await stack.stop();
  }
  if (o.profileDir) printProfiles(summariseDir(o.profileDir));
}

function printProfiles(summaries: ReturnType<typeof summariseDir>): void {
  for (const p of summaries) {
    console.log(`\nprofile ${p.file} (${Math.round(p.seconds)} s): by package`);
    for (const x of p.byPackage) console.log(`  ${String(x.percent).padStart(5)}%  ${x.name}`);
    console.log('  top functions (self time):');
    for (const x of p.topFunctions) console.log(`  ${String(x.percent).padStart(5)}%  ${x.name}`);
  }
}

function buildReport(o: BenchOptions, s: ScenarioResult, b: { http: { rps: number; p99: number }; workflows: number; hotRow: number; reserve: { flash: number; regular: number } }, failures: string[]) {
  const count = (prefix: string) => s.attack.samples.filter((x) => x.outcome.startsWith(prefix)).length;
  const rejectsPerSecond = s.quietRejects.samples.filter((x) => x.outcome.startsWith('409')).length / s.quietRejects.seconds;
  const rejectP99 = byOutcome(s.quietRejects.samples)['409 SOLD_OUT']?.p99 ?? 0;
  const busyRejectsPerSecond = s.rejects.samples.filter((x) => x.outcome.startsWith('409')).length / s.rejects.seconds;
  const sagasPerSecond = s.sagasSeconds > 0 ? s.paid / s.sagasSeconds : 0;
  return {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: round(os.totalmem() / 2 ** 30, 1), node: process.version },
    options: o,
    scenario: {
      attemptsPerSecond: round(s.attack.samples.filter((x) => !x.outcome.startsWith('pay')).length / s.attack.seconds),
      holdsPerSecond: round(count('201') / s.attack.seconds),
      rejectsPerSecond: round(rejectsPerSecond),
      rejectP99Ms: rejectP99,
      rejectsPerSecondWhileSagasSettle: round(busyRejectsPerSecond),
      sagasCompletedPerSecond: round(sagasPerSecond),
      winners: s.winners,
      paid: s.paid,
      settleSeconds: round(s.settleSeconds),
      latencyMs: { attack: byOutcome(s.attack.samples), rejectsWhileSettling: byOutcome(s.rejects.samples), rejectPath: byOutcome(s.quietRejects.samples) },
    },
    baselines: { noopHttpRps: round(b.http.rps), noopHttpP99Ms: round(b.http.p99), noopWorkflowsPerSecond: round(b.workflows), rawHotRowUpdatesPerSecond: round(b.hotRow), reserveStepPerSecond: round(b.reserve.flash), regularReserveStepPerSecond: round(b.reserve.regular) },
    ratios: {
      rejectPathVsNoopHttp: round(rejectsPerSecond / b.http.rps, 3),
      sagasVsNoopWorkflow: round(sagasPerSecond / b.workflows, 3),
      reserveStepVsRawHotRow: round(b.reserve.flash / b.hotRow, 3),
      regularReserveStepVsRawHotRow: round(b.reserve.regular / b.hotRow, 3),
    },
    targets: {
      rejectPath15kRps: rejectsPerSecond >= 15_000,
      rejectP99Under20ms: rejectP99 <= 20,
      sagas70PercentOfNoop: sagasPerSecond >= 0.7 * b.workflows,
      reserve50PercentOfRaw: b.reserve.flash >= 0.5 * b.hotRow,
    },
    failures,
  };
}

function printTable(r: ReturnType<typeof buildReport>): void {
  const rows: [string, string | number][] = [
    ['attempts/s (flash sale)', r.scenario.attemptsPerSecond],
    ['holds/s', r.scenario.holdsPerSecond],
    ['rejects/s (sold out, sagas settled)', r.scenario.rejectsPerSecond],
    ['reject p99 ms (sold out, sagas settled)', r.scenario.rejectP99Ms],
    ['rejects/s (while the sale\'s sagas settle)', r.scenario.rejectsPerSecondWhileSagasSettle],
    ['sagas completed/s (paid)', r.scenario.sagasCompletedPerSecond],
    ['winners / paid', `${r.scenario.winners} / ${r.scenario.paid}`],
    ['baseline no-op HTTP req/s', r.baselines.noopHttpRps],
    ['baseline no-op workflows/s', r.baselines.noopWorkflowsPerSecond],
    ['baseline raw hot-row UPDATE/s', r.baselines.rawHotRowUpdatesPerSecond],
    ['reserve step DB work/s (flash-sale pool)', r.baselines.reserveStepPerSecond],
    ['reserve step DB work/s (regular order)', r.baselines.regularReserveStepPerSecond],
    ['ratio reject path / no-op HTTP', r.ratios.rejectPathVsNoopHttp],
    ['ratio sagas / no-op workflow', r.ratios.sagasVsNoopWorkflow],
    ['ratio reserve step / raw hot row', r.ratios.reserveStepVsRawHotRow],
    ['ratio regular reserve / raw hot row', r.ratios.regularReserveStepVsRawHotRow],
  ];
  console.log('\n| metric | value |\n| --- | --- |');
  for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
  console.log('\nlatency by outcome (ms):');
  for (const [phase, groups] of Object.entries(r.scenario.latencyMs)) {
    for (const [outcome, p] of Object.entries(groups)) console.log(`  ${phase.padEnd(10)} ${outcome.padEnd(24)} n=${p.count} p50=${p.p50} p95=${p.p95} p99=${p.p99}`);
  }
  console.log(`\ntargets: ${JSON.stringify(r.targets)}\n`);
}

main().catch((err) => {
  console.error(`[bench] ${(err as Error).stack ?? err}`);
  process.exit(1);
});
