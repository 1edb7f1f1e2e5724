/**
 * What one request costs the API process: CPU microseconds per answer (from /proc, the figure
 * least moved by a busy machine) and, with --profile, a V8 CPU profile of the API and its top
 * frames. Runs the real API process (api/server.ts) on a scratch database and Redis index and
 * sends it the reject path of a flash sale (a sold-out campaign: the gate answers 409 SOLD_OUT)
 * and, for comparison, the no-op Fastify route of the benchmark (bench/noop-server.ts). Temporal
 * is not needed: the API connects to it on first use, and the reject path never does.
 *
 *   npx tsx scripts/profile-request.ts [--requests N] [--concurrency C] [--profile DIR] [--log-level info]
 *   env PROFILE_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/stockhold_profile_test, dropped and recreated)
 *   env PROFILE_REDIS_URL    (default redis://127.0.0.1:6379/12, flushed)
 */
import path from 'node:path';
import Redis from 'ioredis';
import { cpuSeconds } from '../bench/profile';
import { percentiles, runLoad } from '../bench/load';
import { freePort, runService, waitForHttp, type Service } from '../platform/processes';
import { recreateDatabase } from '../prisma/migrate';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createDb } from '../data/db';
import { upsertProduct, upsertWarehouse } from '../data/stock/catalog';
import { receiveStock } from '../data/stock/stock-admin';

const argv = process.argv.slice(2);
const value = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const requests = Number(value('requests') ?? 20_000);
const concurrency = Number(value('concurrency') ?? 100);
const profileDir = value('profile');
const databaseUrl = process.env.PROFILE_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/stockhold_profile_test';
const redisUrl = process.env.PROFILE_REDIS_URL ?? 'redis://127.0.0.1:6379/12';
const AUTH = { authorization: 'Bearer profile-admin-token' };
const WARM_UP = 2_000;
const ROOT = path.resolve(__dirname, '..');

async function main(): Promise<void> {
  await recreateDatabase(databaseUrl);
  const redis = new Redis(redisUrl);
  await redis.flushdb();
  redis.disconnect();
  const port = await freePort();
  const noopPort = await freePort();
  const nodeArgs = (name: string) =>
    profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir, name)}`] : [];
  if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  const api = runService(
    'api/server.ts',
    {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redisUrl,
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
      PORT: String(port),
      ADMIN_TOKEN: 'profile-admin-token',
      WEBHOOK_SECRET: 'profile-webhook-secret',
      // The bench's level; `--log-level info` (the default of npm start and production) adds the request log.
      LOG_LEVEL: value('log-level') ?? 'warn',
      LOG_FORMAT: 'json',
      KEY_RATE_LIMIT_PER_MINUTE: '100000000',
      ORDER_RATE_LIMIT_PER_MINUTE: '1000000',
    },
    [],
    nodeArgs('api'),
  );
  const noop = runService('bench/noop-server.ts', {}, [String(noopPort)]);
  const services: Service[] = [api, noop];
  try {
    const base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/readyz`);
    await waitForHttp(`http://127.0.0.1:${noopPort}/noop`).catch(() => undefined);
    await soldOutCampaign(base);
    const reject = (i: number) => ({
      path: '/campaigns/profile-sold-out/orders',
      method: 'POST' as const,
      body: JSON.stringify({ orderId: `p-${i}`, userId: `u-${i % 5000}`, quantity: 1 }),
    });
    const noopRequest = () => ({ path: '/noop', method: 'POST' as const, body: '{}' });
    // Warm-up: JIT, connections, the gate's scripts.
    await runLoad({ base, headers: AUTH, total: WARM_UP, concurrency, request: reject });
    await runLoad({ base: `http://127.0.0.1:${noopPort}`, total: WARM_UP, concurrency, request: noopRequest });
    const measure = async (name: string, pid: number, target: string, request: (i: number) => object) => {
      const before = cpuSeconds(pid);
      const from = monotonicMicros();
      const load = await runLoad({
        base: target,
        headers: AUTH,
        total: requests,
        concurrency,
        request: request as never,
      });
      const cpu = cpuSeconds(pid) - before;
      windows.set(name, [from, monotonicMicros()]);
      const outcomes: Record<string, number> = {};
      for (const s of load.samples) outcomes[s.outcome] = (outcomes[s.outcome] ?? 0) + 1;
      const p = percentiles(load.samples.map((s) => s.ms));
      return {
        name,
        perSecond: Math.round(requests / load.seconds),
        cpuMicrosPerRequest: Math.round((cpu * 1e6) / requests),
        p99Ms: p.p99,
        outcomes,
      };
    };
    const results = [
      await measure(REJECT, api.child.pid!, base, reject),
      await measure('no-op route', noop.child.pid!, `http://127.0.0.1:${noopPort}`, noopRequest),
    ];
    const [r, n] = results;
    console.log(JSON.stringify({ requests, concurrency, loadAverage: loadAverage(), results }, null, 2));
    console.log(`reject CPU / no-op CPU per request: ${(r.cpuMicrosPerRequest / n.cpuMicrosPerRequest).toFixed(2)}`);
  } finally {
    await Promise.all(services.map((s) => s.stop('SIGINT')));
  }
  if (profileDir) printProfile(path.resolve(profileDir, 'api'), windows.get(REJECT)!, requests);
}

/**
 * CLOCK_MONOTONIC in µs: the clock of V8's profile timestamps too (same machine), so the
 * samples of the measured window can be told from start-up and warm-up.
 */
const monotonicMicros = () => Number(process.hrtime.bigint() / 1000n);
const windows = new Map<string, [number, number]>();
const REJECT = 'reject (409 SOLD_OUT)';

/**
 * The API main thread's busy time (idle excluded) during the measured window, by function
 * (self time), in µs per answered request.
 */
function printProfile(dir: string, [from, to]: [number, number], answered: number): void {
  // The main thread's profile is thread 0 (`CPU.<date>.<time>.<pid>.0.<seq>`); tsx's loader writes another.
  const file = readdirSync(dir).find((f) => /\.\d+\.0\.\d+\.cpuprofile$/.test(f));
  if (!file) return;
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let at = profile.startTime;
  profile.samples.forEach((id, i) => {
    at += profile.timeDeltas[i] ?? 0;
    if (at < from || at > to) return;
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') return;
    const where = url
      ? ` ${url.replace(/^.*node_modules\//, '').replace(`file://${ROOT}/`, '')}:${lineNumber + 1}`
      : '';
    const name = `${functionName || '(anonymous)'}${where}`;
    self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const busy = [...self.values()].reduce((a, b) => a + b, 0);
  console.log(`profile ${path.join(dir, file)}, measured window ${from}..${to} (µs, CLOCK_MONOTONIC)`);
  console.log(
    `API main thread busy ${(busy / 1e6).toFixed(2)} s = ${Math.round(busy / answered)} µs per answered request`,
  );
  for (const [name, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25))
    console.log(
      `  ${((100 * t) / busy).toFixed(1).padStart(5)}%  ${(t / answered).toFixed(1).padStart(6)} µs  ${name}`,
    );
}

interface CpuProfile {
  startTime: number;
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
  timeDeltas: number[];
}

function loadAverage(): string {
  return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
}

async function soldOutCampaign(base: string): Promise<void> {
  const post = async (url: string, body: object) => {
    const res = await fetch(`${base}${url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...AUTH },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };
  const db = createDb(databaseUrl);
  try {
    await upsertWarehouse(db, 'PW', 'profile');
    await upsertProduct(db, 'PROFILE', 'profile');
    await receiveStock(db, {
      idempotencyKey: 'profile',
      sku: 'PROFILE',
      warehouseCode: 'PW',
      quantity: 1,
      reason: 'profile',
    });
  } finally {
    await db.$disconnect();
  }
  const campaign = await post('/admin/campaigns', {
    id: 'profile-sold-out',
    sku: 'PROFILE',
    warehouseCode: 'PW',
    startsAt: new Date(Date.now() - 1000).toISOString(),
    endsAt: new Date(Date.now() + 3600_000).toISOString(),
    quota: 1,
    perUserLimit: 1,
  });
  const won = await post('/campaigns/profile-sold-out/orders', { orderId: 'p-won', userId: 'early', quantity: 1 });
  if (won.status !== 201)
    throw new Error(`setup failed: campaign ${campaign.status} ${campaign.text}; order ${won.status} ${won.text}`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
