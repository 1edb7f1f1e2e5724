/**
 * What a sustained winner costs the API process (issue 21): plain orders on a level stocked for
 * every one, each paid through the signed webhook as it answers — the bench's sustained phase —
 * on the whole stack (a Temporal dev server, the real worker and API). Prints the API's CPU
 * microseconds per answered request (an order or its payment, from /proc) and, with --profile,
 * where the API's main thread spent the measured window, by package and by function (µs per
 * winner: its order and its payment). Last, the Temporal client's own CPU per saga start and per
 * payment signal, measured in this process against the same dev server.
 *
 *   npx tsx scripts/profile-winners.ts [--orders N] [--concurrency C] [--profile DIR] [--ttl S] [--orders-alone N]
 *   --ttl S            the stack's hold TTL (default 20: the orders-alone holds expire before the measured run)
 *   --orders-alone N   unpaid orders measured first (default 1000; 0 skips them, for long runs with a long --ttl)
 *   env PROFILE_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/stockhold_profile_winners_test, dropped and recreated)
 *   env PROFILE_REDIS_URL    (default redis://127.0.0.1:6379/12, flushed)
 */
import path from 'node:path';
import { readdirSync, readFileSync } from 'node:fs';
import { createDb, type Db } from '../data/db';
import { findUnstartedSagas } from '../data/orders/saga-starts';
import { upsertProduct, upsertWarehouse } from '../data/stock/catalog';
import { receiveStock } from '../data/stock/stock-admin';
import { parseOptions } from '../bench/options';
import { cpuSeconds, cpuTimes, packageOf } from '../bench/profile';
import { plainOrder, waitAllClosed, WAREHOUSE } from '../bench/scenario';
import { startStack, type BenchStack } from '../bench/stack';
import { runLoad } from '../bench/load';
import { requestedAllocation } from '../domain/allocation';
import type { OrderWorkflowInput } from '../domain/order-saga';
import { sagaStartOptions } from '../use-cases/order-sagas';
import { orderWorkflowId } from '../workflows/ids';
import { paymentSignal } from '../workflows/messages';
import { runSustained, sustainedFigures, SUSTAINED_SKU } from '../bench/sustained';

const argv = process.argv.slice(2);
const value = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const orders = Number(value('orders') ?? 3_000);
const WARM_UP = 500;
const profileDir = value('profile') ? path.resolve(value('profile')!) : undefined;
const databaseUrl =
  process.env.PROFILE_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/stockhold_profile_winners_test';
const redisUrl = process.env.PROFILE_REDIS_URL ?? 'redis://127.0.0.1:6379/12';

async function main(): Promise<void> {
  const o = parseOptions(['--concurrency', value('concurrency') ?? '500', '--sustained-attempts', String(orders)], {});
  const stack = await startStack({
    // Long enough for every sustained winner to be paid first; the orders-alone holds expire and close before the measured run.
    ttlSeconds: Number(value('ttl') ?? 20),
    databaseUrl,
    redisUrl,
    profileDir,
    closingNice: o.closingNice,
  });
  const db = createDb(databaseUrl, { maxConnections: 4 });
  const say = (line: string) => process.stderr.write(`${line}\n`);
  try {
    await upsertWarehouse(db, WAREHOUSE, 'profile');
    await upsertProduct(db, SUSTAINED_SKU, SUSTAINED_SKU);
    await receiveStock(db, {
      idempotencyKey: 'profile-sustained',
      sku: SUSTAINED_SKU,
      warehouseCode: WAREHOUSE,
      quantity: orders + WARM_UP + 1_000,
      reason: 'profile',
    });
    // Warm-up: the JIT, the pools, Temporal's connection; its order ids differ from the measured run's.
    await runSustained(stack, { ...o, sustainedAttempts: WARM_UP }, say, 'w-');
    await waitAllClosed(stack, db, 300, say);
    // Orders alone first (no payment): what the order and its saga start cost, apart from the webhook.
    const ordersFrom = monotonicMicros();
    const alone = Number(value('orders-alone') ?? Math.min(orders, 1_000));
    const ordersOnly = alone > 0 ? await ordersAlone(stack, db, o.concurrency, alone) : undefined;
    if (ordersOnly) {
      ordersWindow = [ordersFrom, monotonicMicros(), ordersOnly.orders];
      await waitAllClosed(stack, db, 300, say);
    }
    const cpuBefore = cpuSeconds(stack.pids.api);
    const splitBefore = userSystem(stack.pids.api);
    const workerBefore = cpuSeconds(stack.pids.worker);
    const temporalBefore = cpuSeconds(stack.pids.temporal);
    const from = monotonicMicros();
    const run = await runSustained(stack, o, say);
    const to = monotonicMicros();
    const apiCpu = cpuSeconds(stack.pids.api) - cpuBefore;
    const split = userSystem(stack.pids.api).map((v, i) => v - splitBefore[i]);
    const f = sustainedFigures(run);
    const perWinner = (apiCpu * 1e6) / run.winners.length;
    await waitAllClosed(stack, db, 900, say);
    console.log(
      JSON.stringify(
        {
          orders,
          concurrency: o.concurrency,
          winners: run.winners.length,
          paid: run.paid.length,
          holdsPerSecond: f.holdsPerSecond,
          winnerP99Ms: f.winnerP99Ms,
          webhookP99Ms: f.webhookP99Ms,
          apiCpuMicrosPerRequest: Math.round((apiCpu * 1e6) / f.requestsAnswered),
          apiCpuMicrosPerWinner: Math.round(perWinner),
          apiSystemShare: Math.round((100 * split[1]) / (split[0] + split[1])) / 100,
          ordersAlone: ordersOnly,
          workerCpuSecondsToClose: Math.round((cpuSeconds(stack.pids.worker) - workerBefore) * 10) / 10,
          temporalCpuSecondsToClose: Math.round((cpuSeconds(stack.pids.temporal) - temporalBefore) * 10) / 10,
          loadAverage: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
        },
        null,
        2,
      ),
    );
    windowOf = [from, to, run.winners.length];
    console.log(JSON.stringify({ temporalClientCpuMicrosPerCall: await temporalCallCost(stack) }, null, 2));
  } finally {
    await db.$disconnect();
    await stack.stop();
  }
  if (profileDir && ordersWindow) {
    console.log('\n== orders alone (µs per order)');
    printProfile(path.join(profileDir, 'api'), ordersWindow);
  }
  if (profileDir && windowOf) {
    console.log('\n== sustained winners, each paid (µs per winner: its order and its payment)');
    printProfile(path.join(profileDir, 'api'), windowOf);
  }
}

/**
 * The Temporal client's own CPU per call, in this process (same SDK, same connection options
 * as the API's client): a saga start with the saga's real input and search attributes, and a
 * payment signal to it. The workflow type is one no worker runs, so nothing else moves; the
 * runs are terminated with the dev server.
 */
async function temporalCallCost(stack: BenchStack): Promise<Record<string, number>> {
  const calls = 1_000;
  const input = (i: number): OrderWorkflowInput => {
    const line = { sku: SUSTAINED_SKU, warehouseCode: WAREHOUSE, quantity: 1 };
    return {
      order: { orderId: `t-${i}`, userId: `tu-${i}`, lines: [line] },
      ttlSeconds: 600,
      reservation: {
        status: 'reserved',
        reservationId: `t-${i}`,
        lines: [line],
        allocations: requestedAllocation([line]),
        expiresAt: new Date(Date.now() + 600_000).toISOString(),
      },
    };
  };
  const measure = async (offset: number, call: (i: number) => Promise<unknown>) => {
    let next = 0;
    const before = process.cpuUsage();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < calls) await call(offset + next++);
      }),
    );
    const used = process.cpuUsage(before);
    return Math.round((used.user + used.system) / calls);
  };
  const start = (i: number) =>
    stack.client.workflow.start('profileCallCost', sagaStartOptions('profile-nobody', input(i)));
  await measure(100_000, start); // warm-up
  const startMicros = await measure(0, start);
  const signalMicros = await measure(0, (i) =>
    stack.client.workflow
      .getHandle(orderWorkflowId(`t-${i}`))
      .signal(paymentSignal, { eventId: `te-${i}`, paymentId: `tp-${i}`, amountCents: 1 }),
  );
  return { start: startMicros, signal: signalMicros };
}

/** Plain winners without payments: the API's CPU per order (its hold and its saga start). */
async function ordersAlone(stack: BenchStack, db: Db, concurrency: number, total: number) {
  const before = cpuSeconds(stack.pids.api);
  const load = await runLoad({
    base: stack.base,
    headers: stack.auth,
    total,
    concurrency,
    request: (i) => plainOrder(`o-${i}`, `ou-${i}`, SUSTAINED_SKU),
  });
  const wins = load.samples.filter((s) => s.outcome === '201').length;
  // Its saga starts too: the API defers them while it answers a burst, so they may follow the load.
  while ((await unstartedSagas(db)) > 0) await new Promise((r) => setTimeout(r, 50));
  return {
    orders: total,
    winners: wins,
    apiCpuMicrosPerOrder: Math.round(((cpuSeconds(stack.pids.api) - before) * 1e6) / total),
  };
}

/** Outbox rows not yet started (any age; one is enough to keep waiting). */
async function unstartedSagas(db: Db): Promise<number> {
  return (await findUnstartedSagas(db, -60_000, 1)).length;
}

/** The process's user and system CPU seconds so far. */
function userSystem(pid: number): [number, number] {
  const { user, system } = cpuTimes(pid);
  return [user, system];
}

let windowOf: [number, number, number] | undefined;
let ordersWindow: [number, number, number] | undefined;
const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);

interface CpuProfile {
  startTime: number;
  nodes: {
    id: number;
    parent?: number;
    children?: number[];
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time by package and by function, and inclusive time by package, in µs per winner. */
function printProfile(dir: string, [from, to, winners]: [number, number, number]): void {
  const file = readdirSync(dir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (!file) return;
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const pkg = packageOf;
  const selfFn = new Map<string, number>();
  const selfPkg = new Map<string, number>();
  const inclPkg = new Map<string, number>();
  let at = profile.startTime;
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    at += dt;
    if (at < from || at > to) return;
    const node = byId.get(id)!;
    if (node.callFrame.functionName === '(idle)') return;
    busy += dt;
    const { functionName, url, lineNumber } = node.callFrame;
    const name = `${functionName || '(anonymous)'} ${url ? `${pkg(url)}:${lineNumber + 1}` : ''}`;
    selfFn.set(name, (selfFn.get(name) ?? 0) + dt);
    selfPkg.set(pkg(url), (selfPkg.get(pkg(url)) ?? 0) + dt);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const p = pkg(byId.get(n)!.callFrame.url);
      if (byId.get(n)!.callFrame.url && !seen.has(p)) {
        seen.add(p);
        inclPkg.set(p, (inclPkg.get(p) ?? 0) + dt);
      }
    }
  });
  const show = (title: string, m: Map<string, number>, top: number) => {
    console.log(title);
    for (const [name, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top))
      console.log(
        `  ${((100 * t) / busy).toFixed(1).padStart(5)}%  ${(t / winners).toFixed(1).padStart(7)} µs  ${name}`,
      );
  };
  console.log(`API main thread busy ${(busy / 1e6).toFixed(2)} s = ${Math.round(busy / winners)} µs per winner`);
  show('self, by package', selfPkg, 15);
  show('inclusive, by package (a sample counts once per package on its stack)', inclPkg, 20);
  show('self, by function', selfFn, 30);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
