/** Benchmark settings from the command line (`npm run bench -- --help`). */
import { isMysqlUrl } from '../platform/mariadb';
import { closingNice } from '../platform/priority';

export interface BenchOptions {
  readonly quick: boolean;
  readonly attempts: number;
  readonly units: number;
  readonly concurrency: number;
  readonly users: number;
  readonly paidShare: number;
  readonly ttlSeconds: number;
  readonly rejectAttempts: number;
  readonly plainAttempts: number;
  readonly plainUnits: number;
  /** Plain orders of the sustained-winners phase, on a level stocked for every one. */
  readonly sustainedAttempts: number;
  /** Concurrent webhook deliveries of the payment provider (apart from the shoppers). */
  readonly payConcurrency: number;
  /** Connections of the raw hot-row baseline: the API's PostgreSQL pool size. */
  readonly dbConnections: number;
  readonly baselineSeconds: number;
  /** How long to wait, once the sale's sagas closed, for the subscriber to get every event. */
  readonly eventsWaitSeconds: number;
  /** Rounds of hold batches with the events on and off (bench/events-cost.ts). */
  readonly eventsRounds: number;
  /** Also run pgbench's raw one-row UPDATE (the shared hot-row anchor r0), when pgbench is installed. */
  readonly anchor: boolean;
  readonly report: string;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** Also run in the production layout (bench/layout.ts) and print a second report. */
  readonly taskset: boolean;
  /** Directory for CPU profiles of the API and worker, when profiling. */
  readonly profileDir?: string;
  /** Nice value of the worker and the Temporal dev server, as under `npm start` (platform/priority.ts). */
  readonly closingNice: number;
  /**
   * `'mariadb'` with `--store mariadb`: the API and worker on MariaDB (BENCH_MARIADB_URL), the
   * report in .data/bench-report.mariadb.json. Absent on PostgreSQL (the default), so the
   * default run's options, and the report that lists them, stay as they were.
   */
  readonly store?: 'mariadb';
}

/** The MariaDB bench database's default URL (the owner's; dropped and recreated each run). */
export const DEFAULT_BENCH_MARIADB_URL = 'mariadb://root@127.0.0.1:3306/stockhold_mysql_bench';

export const USAGE = `npm run bench [-- options]
  --quick                 a small run that finishes in about a minute
  --attempts N            flash-sale order attempts (default 20000; quick 3000)
  --units S               units on sale (default 1000; quick 200)
  --concurrency C         concurrent shoppers, also of the no-op route baseline (default 500; quick 100)
  --users M               distinct shoppers (default attempts/4)
  --paid-share P          share of winners who pay, 0..1 (default 0.5); the others expire
  --ttl SECONDS           hold TTL for the unpaid winners (default 15; quick 5)
  --reject-attempts R     attempts on a sold-out campaign once every saga has closed (default 20000; quick 3000)
  --plain-attempts N      plain POST /orders attempts on one hot level (default 5000; quick 1500)
  --plain-units S         stock of that level (default 1000; quick 200)
  --sustained-attempts N  plain orders on a level stocked for all, every winner paid (default 2000; quick 200)
  --pay-concurrency P     webhook deliveries in flight from the payment provider (default 50)
  --db-connections K      connections of the raw hot-row baseline (default 10: the API's pool)
  --baseline-seconds T    length of each database baseline (default 5; quick 2)
  --events-rounds N       rounds of hold batches with the event triggers on and off, 10 + 10 batches
                          of 50 each way per round (default 10; quick 4)
  --events-wait SECONDS   once the sale's sagas closed, how long to wait for the event subscriber to
                          receive every event of the sale (default 60; quick 30); then it counts
  --no-anchor             skip pgbench's raw one-row UPDATE (printed, never a target)
  --closing-nice N        nice value of the worker and Temporal dev server, as \`npm start\` gives them
                          (default CLOSING_NICE or 10; 0: they share the CPU evenly with the API)
  --taskset               then run again in the production layout: the API pinned to CPU 0, the rest
                          of what the bench starts to CPU 1 (taskset); a second report, labelled
                          so, in <report>.taskset.json
  --store S               postgresql (default) or mariadb: the API and worker on MariaDB
                          (BENCH_MARIADB_URL); its own raw hot-row baseline, the events on vs
                          off with MariaDB's triggers dropped and recreated, no pgbench anchor;
                          --taskset pins the whole MariaDB server (local) to CPU 1 for its run
  --report FILE           JSON report (default .data/bench-report.json; with --store mariadb
                          .data/bench-report.mariadb.json)
  --profile               CPU-profile the API and worker processes (node --cpu-prof) and print
                          where their time went; profiles land in .data/profiles/
  env BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/stockhold_bench, dropped and recreated)
  env BENCH_MARIADB_URL  (--store mariadb; default ${DEFAULT_BENCH_MARIADB_URL}, dropped and recreated;
                         the API and worker connect as the service user stockhold_app)
  env BENCH_REDIS_URL    (default redis://127.0.0.1:6379/13, flushed)`;

function mariadbUrl(url: string): string {
  if (!isMysqlUrl(url)) throw new Error('BENCH_MARIADB_URL must be a mysql:// or mariadb:// URL');
  return url;
}

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): BenchOptions {
  const flag = (name: string) => argv.includes(`--${name}`);
  const value = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const num = (name: string, full: number, quick: number, min: number, max: number): number => {
    const raw = value(name);
    const n = raw === undefined ? (flag('quick') ? quick : full) : Number(raw);
    if (!Number.isFinite(n) || n < min || n > max) throw new Error(`--${name} must be a number from ${min} to ${max}`);
    return n;
  };
  const attempts = num('attempts', 20_000, 3_000, 1, 10_000_000);
  const store = value('store') ?? 'postgresql';
  if (store !== 'postgresql' && store !== 'mariadb') throw new Error('--store must be postgresql or mariadb');
  const mariadb = store === 'mariadb';
  const options: BenchOptions = {
    quick: flag('quick'),
    attempts,
    units: num('units', 1_000, 200, 1, 1_000_000),
    concurrency: num('concurrency', 500, 100, 1, 10_000),
    users: num('users', Math.ceil(attempts / 4), Math.ceil(attempts / 4), 1, 10_000_000),
    paidShare: num('paid-share', 0.5, 0.5, 0, 1),
    ttlSeconds: num('ttl', 15, 5, 1, 3600),
    rejectAttempts: num('reject-attempts', 20_000, 3_000, 1, 10_000_000),
    plainAttempts: num('plain-attempts', 5_000, 1_500, 1, 10_000_000),
    plainUnits: num('plain-units', 1_000, 200, 1, 1_000_000),
    sustainedAttempts: num('sustained-attempts', 2_000, 200, 1, 10_000_000),
    payConcurrency: num('pay-concurrency', 50, 50, 1, 10_000),
    dbConnections: num('db-connections', 10, 10, 1, 1000),
    baselineSeconds: num('baseline-seconds', 5, 2, 1, 600),
    eventsWaitSeconds: num('events-wait', 60, 30, 0, 3600),
    eventsRounds: num('events-rounds', 10, 4, 1, 1000),
    anchor: !flag('no-anchor'),
    report: value('report') ?? '.data/bench-report.json',
    databaseUrl: env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/stockhold_bench',
    redisUrl: env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/13',
    taskset: flag('taskset'),
    profileDir: flag('profile') ? '.data/profiles' : undefined,
    closingNice: num('closing-nice', closingNice(env), closingNice(env), 0, 19),
  };
  if (!mariadb) return options;
  return {
    ...options,
    // pgbench is PostgreSQL's; MariaDB's raw baseline is the Node one (bench/mariadb-store.ts).
    anchor: false,
    report: value('report') ?? '.data/bench-report.mariadb.json',
    databaseUrl: mariadbUrl(env.BENCH_MARIADB_URL ?? DEFAULT_BENCH_MARIADB_URL),
    store: 'mariadb',
  };
}
