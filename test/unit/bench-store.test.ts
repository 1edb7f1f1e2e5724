/**
 * `npm run bench -- --store mariadb` (issue 22 items 4–5): the options select MariaDB's
 * database, report file and no pgbench anchor while the default run's options stay exactly as
 * they were; the summary has the same keys on both stores, every one a measured figure (the
 * events' four too: events on vs off and a subscriber's lag are measured on MariaDB), and every
 * target is held to the same run's baselines and bounds as on PostgreSQL. The figures' MariaDB
 * sources on a real MariaDB: test/mariadb/bench.test.ts.
 */
import { DEFAULT_BENCH_MARIADB_URL, parseOptions } from '../../bench/options';
import type { Baselines, Scenario } from '../../bench/phases';
import { targets } from '../../bench/report';
import { buildSummary } from '../../bench/summary';
import { summariseEventsCost, type EventsCost } from '../../bench/events-cost';
import type { EventLag } from '../../bench/event-subscriber';
import type { Sample } from '../../bench/load';
import type { MachineLoad } from '../../bench/machine';
import type { SustainedResult } from '../../bench/sustained';

describe('bench options: --store', () => {
  const env = { CLOSING_NICE: '10' };

  it('leaves the default (PostgreSQL) run as it was: no store key, its URL, report and anchor', () => {
    const o = parseOptions(['--quick'], env);
    expect(o).not.toHaveProperty('store');
    expect(o.databaseUrl).toBe('postgresql://postgres@127.0.0.1:5432/stockhold_bench');
    expect(o.report).toBe('.data/bench-report.json');
    expect(o.anchor).toBe(true);
    expect(parseOptions(['--quick', '--store', 'postgresql'], env)).toEqual(o);
  });

  it('runs on MariaDB with --store mariadb: its own database, report file, no pgbench anchor', () => {
    const o = parseOptions(['--quick', '--store', 'mariadb'], env);
    expect(o.store).toBe('mariadb');
    expect(o.databaseUrl).toBe(DEFAULT_BENCH_MARIADB_URL);
    expect(DEFAULT_BENCH_MARIADB_URL).toBe('mariadb://root@127.0.0.1:3306/stockhold_mysql_bench');
    expect(o.report).toBe('.data/bench-report.mariadb.json');
    expect(o.anchor).toBe(false);
    // Every other option is what the same flags give on PostgreSQL.
    const { store: _s, databaseUrl: _d, report: _r, anchor: _a, ...rest } = o;
    const { databaseUrl: _pd, report: _pr, anchor: _pa, ...pgRest } = parseOptions(['--quick'], env);
    expect(rest).toEqual(pgRest);
  });

  it('takes BENCH_MARIADB_URL and --report, and ignores BENCH_DATABASE_URL on MariaDB', () => {
    const o = parseOptions(['--store', 'mariadb', '--report', 'x.json'], {
      ...env,
      BENCH_DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/other_bench',
      BENCH_MARIADB_URL: 'mysql://root@127.0.0.1:3306/stockhold_mysql_bench_helper',
    });
    expect(o.databaseUrl).toBe('mysql://root@127.0.0.1:3306/stockhold_mysql_bench_helper');
    expect(o.report).toBe('x.json');
  });

  it('refuses an unknown store and a PostgreSQL URL for MariaDB; takes --taskset on both stores', () => {
    expect(() => parseOptions(['--store', 'oracle'], env)).toThrow('--store must be postgresql or mariadb');
    expect(() =>
      parseOptions(['--store', 'mariadb'], { ...env, BENCH_MARIADB_URL: 'postgresql://postgres@127.0.0.1/x_bench' }),
    ).toThrow('BENCH_MARIADB_URL must be a mysql:// or mariadb:// URL');
    expect(parseOptions(['--store', 'mariadb', '--taskset'], env).taskset).toBe(true);
    expect(parseOptions(['--taskset'], env).taskset).toBe(true);
  });
});

describe('bench summary on MariaDB', () => {
  const at = (sentAt: number, ms: number, outcome: string): Sample => ({
    outcome,
    ms,
    sentAt,
    answeredAt: sentAt + ms,
  });
  const scenario = (samples: Sample[]) =>
    ({
      sale: { result: { load: { samples, seconds: 1 }, payments: [at(0, 5, 'pay 200')], winners: [], paid: [] } },
      out: { holds: 2, firstAdmission: 0, soldOutAt: 200, seconds: 0.2 },
      sagas: { lastCloseAt: 1200, lastSettledAt: 1000, sagasPerSecond: 20, startLagMs: { p99: 30 } },
    }) as unknown as Scenario;
  const flash = scenario([at(0, 100, '201'), at(100, 100, '201'), at(150, 10, '409 SOLD_OUT')]);
  const plain = scenario([at(0, 100, '201'), at(100, 100, '201'), at(250, 20, '409 INSUFFICIENT_STOCK')]);
  const sustained: SustainedResult = {
    load: { samples: [at(0, 10, '201'), at(10, 10, '201')], seconds: 0.02 },
    payments: [at(5, 8, 'pay 200')],
    winners: ['s-0', 's-1'],
    paid: ['s-0', 's-1'],
    ordersEndedAt: 20,
    apiCpuSeconds: 0.01,
  };
  const load = { busyBefore: 0, loadAverageBefore: [0, 0, 0], loadAverageDuringMax: 1, noisy: false } as MachineLoad;
  const lag: EventLag = {
    eventsExpected: 10,
    eventsDelivered: 10,
    lagMs: { count: 10, p50: 5, p95: 8, p99: 9 },
    badSignatures: 0,
    duplicates: 0,
    waitedSeconds: 0,
    byType: {},
  };
  const summaryOf = (events: EventsCost, lag: EventLag) =>
    buildSummary(
      { rawHotRow: 20, noopWorkflows: 40, anchor: undefined, batchCost: [], events } as Baselines,
      flash,
      plain,
      { samples: [at(0, 1, '409 SOLD_OUT')], seconds: 1 },
      { rps: 100, p99: 50 },
      sustained,
      [],
      load,
      { winner: 10, reject: 2, noop: 1 },
      lag,
    );
  // Batch times as both stores' events phases record them (ms, 50 holds a batch).
  const cost = (campaignOn: number, campaignOff: number) =>
    summariseEventsCost(
      {
        'campaign on': [campaignOn, campaignOn, 99],
        'campaign off': [campaignOff, campaignOff, 0.5],
        'level on': [4, 4, 4],
        'level off': [2, 2, 2],
      },
      50,
    );
  const pg = summaryOf(cost(10, 9.5), lag);
  // MariaDB's own figures (bench/mariadb-events-cost.ts, the same subscriber): different values, same keys.
  const maria = summaryOf(cost(12.5, 10), {
    ...lag,
    eventsExpected: 12,
    eventsDelivered: 11,
    lagMs: { ...lag.lagMs, p99: 40 },
  });

  it('times events on vs off alike on both stores: median batch → holds/s, on / off', () => {
    expect(cost(12.5, 10)).toEqual({
      batchSize: 50,
      campaign: {
        batches: 3,
        medianMsOn: 12.5,
        medianMsOff: 10,
        holdsPerSecondOn: 4000,
        holdsPerSecondOff: 5000,
        ratio: 0.8,
      },
      level: {
        batches: 3,
        medianMsOn: 4,
        medianMsOff: 2,
        holdsPerSecondOn: 12500,
        holdsPerSecondOff: 25000,
        ratio: 0.5,
      },
    });
  });

  it('has the same keys as on PostgreSQL, every one measured: the four event figures too', () => {
    expect(Object.keys(maria)).toEqual(Object.keys(pg));
    for (const [key, value] of Object.entries(maria)) expect([key, value]).not.toEqual([key, null]);
    for (const [key, value] of Object.entries(maria)) expect([key, value]).not.toEqual([key, undefined]);
    expect(maria).toMatchObject({
      eventsOverheadRatio: 0.8,
      eventLagP99Ms: 40,
      eventsDelivered: 11,
      eventsExpected: 12,
    });
    expect(pg).toMatchObject({ eventsOverheadRatio: 0.95, eventLagP99Ms: 9, eventsDelivered: 10, eventsExpected: 10 });
    // The hot-row figures come from the run's own baseline: holds / sell-out seconds, raw from the store.
    expect(maria.holdsPerSecond).toBe(10);
    expect(maria.rawHotRowUpdatesPerSecond).toBe(20);
  });

  it('holds holds/s to 0.5 × the same run’s raw hot row and the events to ≥ 0.9, as on PostgreSQL', () => {
    const list = targets(maria, { concurrency: 500, units: 2 });
    const byName = Object.fromEntries(list.map((t) => [t.name, t]));
    expect(list.map((t) => t.name)).toEqual(targets(pg, { concurrency: 500, units: 2 }).map((t) => t.name));
    expect(byName.eventsOverheadRatio).toMatchObject({ value: 0.8, ratio: 0.8, met: false });
    expect(byName.eventsOverheadRatio.bound).toBe('≥ 0.9 (flash-sale holds/s, events on / off)');
    expect(targets({ ...maria, eventsOverheadRatio: 0.9 }, { concurrency: 500, units: 2 }).at(-2)).toMatchObject({
      name: 'eventsOverheadRatio',
      met: true,
    });
    expect(byName.holdsPerSecond).toMatchObject({ value: 10, ratio: 0.5, met: true });
    expect(targets({ ...maria, holdsPerSecond: 9.9 }, { concurrency: 500, units: 2 })[0].met).toBe(false);
    expect(targets(pg, { concurrency: 500, units: 2 }).find((t) => t.name === 'eventsOverheadRatio')?.met).toBe(true);
  });
});
