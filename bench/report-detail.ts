/** The run's detail as printed after the targets: latency by outcome, batches, sagas, CPU, profiles. */
import os from 'node:os';
import type { summariseDir } from './profile';

export interface Phase {
  readonly cpuCoresByThread: object;
  readonly batches: object | undefined;
  readonly latencyMs: object;
  readonly serverErrors: Record<string, number>;
  readonly sagas: object;
  readonly cpuCores: object;
}

export function printDetail(
  r: {
    flashSale: Phase;
    plainOrders: Phase;
    rejectPath: { latencyMs: object };
    sustainedWinners: { latencyMs: object };
  },
  store?: 'mariadb',
): void {
  const server = store === 'mariadb' ? 'MariaDB' : 'PostgreSQL';
  const latency = (phase: string, groups: object) => {
    for (const [outcome, p] of Object.entries(
      groups as Record<string, { count: number; p50: number; p95: number; p99: number }>,
    )) {
      console.log(`  ${phase.padEnd(12)} ${outcome.padEnd(28)} n=${p.count} p50=${p.p50} p95=${p.p95} p99=${p.p99}`);
    }
  };
  console.log('latency by outcome (ms):');
  latency('flash sale', r.flashSale.latencyMs);
  latency('reject path', r.rejectPath.latencyMs);
  latency('plain', r.plainOrders.latencyMs);
  latency('sustained', r.sustainedWinners.latencyMs);
  for (const [k, n] of Object.entries({ ...r.flashSale.serverErrors, ...r.plainOrders.serverErrors }))
    console.log(`  ${n} × ${k}`);
  console.log(
    `\nhold batches until sell-out (from ${server}): flash sale ${JSON.stringify(r.flashSale.batches)}; plain ${JSON.stringify(r.plainOrders.batches)}`,
  );
  console.log(`flash-sale sagas: ${JSON.stringify(r.flashSale.sagas)}`);
  console.log(`plain sagas: ${JSON.stringify(r.plainOrders.sagas)}`);
  console.log(
    `\nCPU cores used (of ${os.cpus().length}; ${store === 'mariadb' ? 'mariadb' : 'postgres'} counts the whole server): flash sale ${JSON.stringify(r.flashSale.cpuCores)}`,
  );
  console.log(`  plain ${JSON.stringify(r.plainOrders.cpuCores)}`);
  console.log(
    `  by thread (API, worker): flash sale ${JSON.stringify(r.flashSale.cpuCoresByThread)}; plain ${JSON.stringify(r.plainOrders.cpuCoresByThread)}\n`,
  );
}

export function printProfiles(summaries: ReturnType<typeof summariseDir>): void {
  for (const p of summaries) {
    console.log(`\nprofile ${p.file} (${Math.round(p.seconds)} s): by package`);
    for (const x of p.byPackage) console.log(`  ${String(x.percent).padStart(5)}%  ${x.name}`);
    console.log('  top functions (self time):');
    for (const x of p.topFunctions) console.log(`  ${String(x.percent).padStart(5)}%  ${x.name}`);
  }
}
