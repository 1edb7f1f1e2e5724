/** Benchmark settings from the command line (`npm run bench -- --help`). */
export interface BenchOptions {
  readonly quick: boolean;
  readonly attempts: number;
  readonly units: number;
  readonly concurrency: number;
  readonly users: number;
  readonly paidShare: number;
  readonly ttlSeconds: number;
  readonly rejectAttempts: number;
  readonly baselineSeconds: number;
  readonly report: string;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** Directory for CPU profiles of the API and worker, when profiling. */
  readonly profileDir?: string;
}

export const USAGE = `npm run bench [-- options]
  --quick                 a small run that finishes in under a minute
  --attempts N            flash-sale order attempts (default 20000; quick 3000)
  --units S               units on sale (default 1000; quick 200)
  --concurrency C         concurrent shoppers (default 500; quick 100)
  --users M               distinct shoppers (default attempts/4)
  --paid-share P          share of winners who pay, 0..1 (default 0.5)
  --ttl SECONDS           hold TTL for the unpaid winners (default 15; quick 5)
  --reject-attempts R     attempts after sell-out, the pure reject path (default 20000; quick 3000)
  --baseline-seconds T    length of each database baseline (default 5; quick 2)
  --report FILE           JSON report (default .data/bench-report.json)
  --profile               CPU-profile the API and worker processes (node --cpu-prof) and print
                          where their time went; profiles land in .data/profiles/
  env BENCH_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/stockhold_bench, dropped and recreated)
  env BENCH_REDIS_URL    (default redis://127.0.0.1:6379/13, flushed)`;

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
  return {
    quick: flag('quick'),
    attempts,
    units: num('units', 1_000, 200, 1, 1_000_000),
    concurrency: num('concurrency', 500, 100, 1, 10_000),
    users: num('users', Math.ceil(attempts / 4), Math.ceil(attempts / 4), 1, 10_000_000),
    paidShare: num('paid-share', 0.5, 0.5, 0, 1),
    ttlSeconds: num('ttl', 15, 5, 1, 3600),
    rejectAttempts: num('reject-attempts', 20_000, 3_000, 0, 10_000_000),
    baselineSeconds: num('baseline-seconds', 5, 2, 1, 600),
    report: value('report') ?? '.data/bench-report.json',
    databaseUrl: env.BENCH_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/stockhold_bench',
    redisUrl: env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379/13',
    profileDir: flag('profile') ? '.data/profiles' : undefined,
  };
}
