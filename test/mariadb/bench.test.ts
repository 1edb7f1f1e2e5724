/**
 * The bench's store side on real MariaDB (`npm run bench -- --store mariadb`, issue 22 items
 * 4–5): MariaDB's raw hot-row baseline takes its units from the row it times; the batches,
 * hold times and open work are read as the PostgreSQL bench reads them; and the end-of-run
 * checks (bench/checks.ts, with a real Temporal dev server for the running sagas) pass on a
 * clean store and name each broken guarantee: a hold still open, a saga never started, a sale
 * without its payment, a payment unsettled, more sold than the limit, a pool or a level that
 * disagrees with its holds or its ledger. The event phases run there too: events off drops the
 * batch's event triggers and on creates them again exactly; the events-cost phase leaves nothing
 * behind; and the bench's own stack (real API and worker processes on MariaDB) measures the events
 * on vs off and a subscriber's lag, so the summary's four event keys are figures, never null.
 */
import { confirmStockOnMariadb } from '../../data/mariadb/confirm-payment';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import type { Pool } from 'mariadb';
import { mariadbServerPinner } from '../../bench/layout';
import { connectMariadb } from '../../platform/mariadb';
import { BATCH_CAMPAIGN, BATCH_LEVEL_SKU, BATCH_POOL_SKU } from '../../bench/batch-cost';
import { EventSubscriber, type EventLag } from '../../bench/event-subscriber';
import type { MachineLoad } from '../../bench/machine';
import {
  MARIADB_BATCH_EVENT_TRIGGERS,
  mariadbEventsCost,
  saveMariadbEventTriggers,
  setMariadbEvents,
} from '../../bench/mariadb-events-cost';
import { parseOptions } from '../../bench/options';
import { flashSalePhase, measureBaselines, type Baselines, type Scenario } from '../../bench/phases';
import { setup } from '../../bench/setup';
import { startStack, type BenchStack } from '../../bench/stack';
import { buildSummary } from '../../bench/summary';
import { TEST_REDIS_URL } from '../helpers/env';
import { Client } from '@temporalio/client';
import { createDb, type Db } from '../../data/db';
import { holdBatchOnMariadb, type MariadbBatchItem } from '../../data/mariadb/hold-batch';
import { releaseOnMariadb } from '../../data/mariadb/holds';
import { startDevServer, type DevServer } from '../../platform/dev-server';
import { freePort } from '../../platform/processes';
import { closeConnection, fencedConnection } from '../../platform/temporal';
import { searchAttributeKeys } from '../../workflows/search-attributes';
import { runChecks } from '../../bench/checks';
import {
  batchesSeenOnMariadb,
  holdTimesOnMariadb,
  mariadbHotRowCeiling,
  openWorkOnMariadb,
} from '../../bench/mariadb-store';
import { sagaStats } from '../../bench/sagas';
import { CAMPAIGN, PLAIN_SKU, WAREHOUSE } from '../../bench/scenario';
import {
  describeMariadb,
  mariadbPool,
  resetMariadb,
  seedCampaign,
  seedLevel,
  TEST_MARIADB_URL,
} from '../helpers/mariadb';

const expiresAt = () => new Date(Date.now() + 3_600_000).toISOString();

function item(serial: string): MariadbBatchItem {
  const line = { sku: 'FLASH', warehouseCode: WAREHOUSE, quantity: 1 };
  return {
    serial,
    orderId: serial,
    userId: `u-${serial}`,
    quantity: 1,
    expiresAt: expiresAt(),
    reserved: { status: 'reserved', reservationId: serial, lines: [line], allocations: [], expiresAt: expiresAt() },
    saga: { orderId: serial, userId: `u-${serial}` },
  };
}

describeMariadb('the bench on MariaDB: its baseline, reads and checks', () => {
  let owner: Pool;
  let db: Db;
  let temporal: DevServer;
  let client: Client;
  const limits = { units: 5, plainUnits: 5, sustainedUnits: 5 };

  beforeAll(async () => {
    await resetMariadb();
    owner = mariadbPool(4);
    // The bench's own Db: the owner's URL, as bench/run.ts makes it.
    db = createDb(TEST_MARIADB_URL, { maxConnections: 4 });
    temporal = await startDevServer({ searchAttributes: searchAttributeKeys, port: await freePort() });
    client = new Client({ connection: await fencedConnection({ address: temporal.address }) });
    await seedLevel(owner, 'FLASH', WAREHOUSE, 10);
    await seedCampaign(owner, CAMPAIGN, 'FLASH', WAREHOUSE, 5, 2);
    await seedLevel(owner, PLAIN_SKU, WAREHOUSE, 5);
  }, 120_000);

  afterAll(async () => {
    if (client) await closeConnection(client.connection);
    await temporal?.stop();
    await db?.$disconnect();
    await owner?.end();
  });

  test('the raw hot-row baseline counts updates that each took a unit from the row it times', async () => {
    const rate = await mariadbHotRowCeiling(TEST_MARIADB_URL, 1, 4);
    expect(rate).toBeGreaterThan(0);
    const [{ remaining }] = await owner.query<{ remaining: number }[]>(
      "SELECT remaining FROM bench_hot_pool WHERE id = 'C'",
    );
    // Each counted update took one unit (plus the four that prepared the statement, untimed).
    expect(1_000_000_000 - remaining).toBeGreaterThanOrEqual(Math.floor(rate * 0.9));
  });

  test('the checks pass on a clean store and name each broken guarantee', async () => {
    expect(await runChecks(db, client, limits, [])).toEqual([]);

    // Three holds of the sale through the service's batch procedure, in two batches.
    const batchStart = Date.now();
    await holdBatchOnMariadb(owner, { kind: 'campaign', campaignId: CAMPAIGN }, [item('b-0'), item('b-1')]);
    await new Promise((r) => setTimeout(r, 20));
    await holdBatchOnMariadb(owner, { kind: 'campaign', campaignId: CAMPAIGN }, [item('b-2')]);
    expect(await openWorkOnMariadb(owner)).toEqual({ holds: 3, pending: 0 });
    const seen = await batchesSeenOnMariadb(owner, 'b-', batchStart, Date.now() + 1000);
    expect(seen).toMatchObject({ batches: 2, meanSize: 1.5, maxSize: 2 });
    expect(seen.cycleMs.max).toBeGreaterThanOrEqual(20);
    const times = await holdTimesOnMariadb(owner, ['b-0', 'b-1', 'b-2', 'nobody']);
    expect(times.created.map((r) => r.id).sort()).toEqual(['b-0', 'b-1', 'b-2']);
    expect(Math.abs(times.created[0].created_at.getTime() - batchStart)).toBeLessThan(10_000);
    expect(times.lastSettledAt).toBeNull();

    // Open holds whose sagas the relay never started (no worker here).
    expect(await runChecks(db, client, limits, [])).toEqual([
      '3 holds still open',
      '3 holds whose saga was never marked started',
    ]);
    await owner.query("UPDATE saga_starts SET started_at = UTC_TIMESTAMP(3) WHERE order_id LIKE 'b-%'");

    // b-0 sold through the service's confirm with no payment stored; b-1 and b-2 released, as a cancel would.
    expect(await confirmStockOnMariadb(owner, 'b-0', 'pay-b-0')).toMatchObject({ status: 'confirmed' });
    await releaseOnMariadb(owner, 'b-1', 'CANCELLED');
    await releaseOnMariadb(owner, 'b-2', 'CANCELLED');
    expect(await runChecks(db, client, limits, [])).toEqual(['flash sale: 1 units sold but 0 payments confirmed']);
    // A pool that no longer matches its holds (units taken past the holds): the reconciliation says so.
    await owner.query('UPDATE campaigns SET remaining = remaining - 2 WHERE id = ?', [CAMPAIGN]);
    const failures = await runChecks(db, client, limits, []);
    expect(failures).toHaveLength(2);
    expect(failures[1]).toMatch(/^invariants broken: .*POOL_VS_HOLDS/);
    await owner.query('UPDATE campaigns SET remaining = remaining + 2 WHERE id = ?', [CAMPAIGN]);

    await owner.query(
      "INSERT INTO payments (order_id, payment_id, event_id, amount_cents) VALUES ('b-0', 'pay-b-0', 'ev-b-0', 999)",
    );
    expect(await openWorkOnMariadb(owner)).toEqual({ holds: 0, pending: 1 });
    expect(await runChecks(db, client, limits, [])).toEqual([
      'flash sale: 1 units sold but 0 payments confirmed',
      '1 payments not settled (PENDING)',
    ]);
    await owner.query("UPDATE payments SET state = 'CONFIRMED', settled_at = UTC_TIMESTAMP(3) WHERE order_id = 'b-0'");
    expect(await runChecks(db, client, limits, [])).toEqual([]);
    const stats = await sagaStats(client, db, ['b-0', 'b-1', 'b-2'], ['b-0']);
    expect(stats.lastSettledAt).toBeGreaterThanOrEqual(batchStart);

    // More sold than the phase's limit, a level whose counters the ledger does not explain, a 500.
    expect(await runChecks(db, client, { ...limits, units: 0 }, [])).toEqual([
      'OVERSOLD (flash sale): 1 units sold > 0',
    ]);
    await owner.query('UPDATE inventory_levels SET reserved = reserved + 1 WHERE sku = ? AND warehouse_code = ?', [
      PLAIN_SKU,
      WAREHOUSE,
    ]);
    const drifted = await runChecks(db, client, limits, [
      { outcome: '500', ms: 1, sentAt: 0, answeredAt: 1, message: 'boom' },
    ]);
    expect(drifted).toEqual([
      'plain level still has 1 reserved with every saga closed',
      expect.stringMatching(/^invariants broken: .*PLAIN-HOT/),
      '1 server errors (500)',
    ]);
    await owner.query('UPDATE inventory_levels SET reserved = reserved - 1 WHERE sku = ? AND warehouse_code = ?', [
      PLAIN_SKU,
      WAREHOUSE,
    ]);
  });
});

/** Every trigger of the database as SHOW CREATE TRIGGER gives it (name → sql_mode and text). */
async function triggerDefinitions(pool: Pool): Promise<Record<string, string>> {
  const names = await pool.query<{ name: string }[]>(
    'SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY 1',
  );
  const out: Record<string, string> = {};
  for (const { name } of names) {
    const [row] = await pool.query<Record<string, string>[]>(`SHOW CREATE TRIGGER ${name}`);
    out[name] = `${row.sql_mode}\n${row['SQL Original Statement']}`;
  }
  return out;
}

describeMariadb('the bench on MariaDB: events on vs off around the hold batch', () => {
  let owner: Pool;

  beforeAll(async () => {
    await resetMariadb();
    owner = mariadbPool(4);
    // The bench's batch-cost level and campaign (bench/setup.ts makes them through the service).
    await seedLevel(owner, BATCH_LEVEL_SKU, WAREHOUSE, 1_000_000);
    await seedLevel(owner, BATCH_POOL_SKU, WAREHOUSE, 1_000);
    await seedCampaign(owner, BATCH_CAMPAIGN, BATCH_POOL_SKU, WAREHOUSE, 1_000, 1);
  }, 120_000);

  afterAll(async () => {
    await owner?.end();
  });

  /** What the phase must leave as it found it. */
  const state = async () => {
    const [row] = await owner.query<Record<string, unknown>[]>(
      `SELECT (SELECT COUNT(*) FROM event_outbox) AS events, (SELECT COUNT(*) FROM reservations) AS holds,
              (SELECT COUNT(*) FROM operation_fences) AS fences, (SELECT COUNT(*) FROM saga_starts) AS sagas,
              (SELECT COUNT(*) FROM stock_movements) AS ledger, (SELECT COUNT(*) FROM campaign_user_counts) AS users,
              (SELECT remaining FROM campaigns WHERE id = ?) AS pool,
              (SELECT reserved FROM inventory_levels WHERE sku = ? AND warehouse_code = ?) AS levelReserved`,
      [BATCH_CAMPAIGN, BATCH_LEVEL_SKU, WAREHOUSE],
    );
    return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, Number(v)]));
  };

  test('events off drops the batch’s event triggers (a change writes no event, no txid); on creates them again exactly', async () => {
    const before = await triggerDefinitions(owner);
    expect(Object.keys(before)).toEqual(expect.arrayContaining([...MARIADB_BATCH_EVENT_TRIGGERS]));
    const conn = await owner.getConnection();
    try {
      const saved = await saveMariadbEventTriggers(conn);
      const change = async (reference: string) => {
        const [{ n: eventsBefore }] = await conn.query<{ n: bigint }[]>('SELECT COUNT(*) AS n FROM event_outbox');
        await conn.query('SET @stockhold_txid = 4242');
        await conn.query(
          'UPDATE inventory_levels SET safety_stock = safety_stock + 1 WHERE sku = ? AND warehouse_code = ?',
          [BATCH_LEVEL_SKU, WAREHOUSE],
        );
        await conn.query(
          `INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta, on_hand_before, on_hand_after)
           VALUES (?, ?, 'RECEIPT', ?, 0, 0, 1000000, 1000000)`,
          [BATCH_LEVEL_SKU, WAREHOUSE, reference],
        );
        await conn.query('SET @stockhold_txid = NULL');
        const [{ n: eventsAfter }] = await conn.query<{ n: bigint }[]>('SELECT COUNT(*) AS n FROM event_outbox');
        const [{ txid }] = await conn.query<{ txid: bigint | null }[]>(
          'SELECT txid FROM stock_movements WHERE reference = ?',
          [reference],
        );
        await conn.query('UPDATE inventory_levels SET safety_stock = 0 WHERE sku = ? AND warehouse_code = ?', [
          BATCH_LEVEL_SKU,
          WAREHOUSE,
        ]);
        return { events: Number(eventsAfter - eventsBefore), txid: txid === null ? null : Number(txid) };
      };
      await setMariadbEvents(conn, saved, false);
      const off = await triggerDefinitions(owner);
      expect(Object.keys(off).sort()).toEqual(
        Object.keys(before)
          .filter((n) => !(MARIADB_BATCH_EVENT_TRIGGERS as readonly string[]).includes(n))
          .sort(),
      );
      expect(await change('events-off')).toEqual({ events: 0, txid: null });
      await setMariadbEvents(conn, saved, false); // twice: still off, no error
      await setMariadbEvents(conn, saved, true);
      expect(await triggerDefinitions(owner)).toEqual(before);
      expect(await change('events-on')).toEqual({ events: 1, txid: 4242 });
      await setMariadbEvents(conn, saved, true); // twice: nothing to create
      expect(await triggerDefinitions(owner)).toEqual(before);
      // With a trigger missing there is no "on" to save: the phase refuses rather than keep events off.
      await setMariadbEvents(conn, saved, false);
      await expect(saveMariadbEventTriggers(conn)).rejects.toThrow(/missing: the events are off/);
      await setMariadbEvents(conn, saved, true);
    } finally {
      await conn.release();
    }
    expect(await triggerDefinitions(owner)).toEqual(before);
  });

  test('the events-cost phase times both kinds of batch each way and leaves the store as it found it', async () => {
    const triggers = await triggerDefinitions(owner);
    const before = await state();
    const cost = await mariadbEventsCost(TEST_MARIADB_URL, 2, 3, 20);
    expect(cost.batchSize).toBe(20);
    for (const kind of [cost.campaign, cost.level]) {
      expect(kind.batches).toBe(6);
      expect(kind.medianMsOn).toBeGreaterThan(0);
      expect(kind.medianMsOff).toBeGreaterThan(0);
      expect(kind.ratio).toBeGreaterThan(0);
      expect(kind.ratio).toBeCloseTo(kind.holdsPerSecondOn / kind.holdsPerSecondOff, 2);
    }
    // Every batch rolled back (no hold, fence, user count, ledger row or event), the decoy saga rows gone, the triggers back.
    expect(await state()).toEqual(before);
    expect(await triggerDefinitions(owner)).toEqual(triggers);
  });
});

describeMariadb('the bench on MariaDB: its event phases through its own stack', () => {
  // A small run of the bench's own phases: the real API and worker processes on MariaDB (the test database).
  const o = parseOptions(
    [
      ...['--store', 'mariadb', '--attempts', '60', '--units', '10', '--concurrency', '10', '--ttl', '2'],
      ...['--events-rounds', '1', '--events-wait', '30', '--baseline-seconds', '1', '--closing-nice', '0'],
    ],
    { BENCH_MARIADB_URL: TEST_MARIADB_URL, BENCH_REDIS_URL: TEST_REDIS_URL },
  );
  let stack: BenchStack | undefined;
  let db: Db | undefined;

  beforeAll(async () => {
    stack = await startStack({
      ttlSeconds: o.ttlSeconds,
      databaseUrl: o.databaseUrl,
      redisUrl: o.redisUrl,
      closingNice: o.closingNice,
    });
    db = createDb(o.databaseUrl, { maxConnections: 4 });
  }, 180_000);

  afterAll(async () => {
    await db?.$disconnect();
    await stack?.stop();
  });

  test('events on vs off and a subscriber’s lag are measured: the summary’s four event keys are figures', async () => {
    await setup(stack!, db!, o);
    const baselines: Baselines = await measureBaselines(stack!, db!, o);
    expect(baselines.events).not.toBeNull();
    expect(baselines.events.campaign).toMatchObject({ batches: 10 });
    expect(baselines.events.campaign.ratio).toBeGreaterThan(0);
    expect(baselines.events.level.ratio).toBeGreaterThan(0);

    const subscriber = await EventSubscriber.start(stack!);
    const flash: Scenario = await flashSalePhase(stack!, db!, o);
    const lag: EventLag = await subscriber.finish(o.eventsWaitSeconds, () => {});
    // The sale's holds, its pool, and each winner's ending (paid or expired) at least.
    expect(flash.sale.result.winners).toHaveLength(10);
    expect(lag.eventsExpected).toBeGreaterThanOrEqual(21);
    expect(lag.eventsDelivered).toBe(lag.eventsExpected);
    expect(lag.badSignatures).toBe(0);
    expect(lag.byType['order.held']).toEqual({ expected: 10, delivered: 10 });
    expect(lag.byType['campaign.changed']?.delivered).toBeGreaterThan(0);
    expect(lag.lagMs.count).toBe(lag.eventsExpected);
    expect(lag.lagMs.p99).toBeGreaterThanOrEqual(0);

    const summary = buildSummary(
      baselines,
      flash,
      flash,
      { samples: flash.sale.result.load.samples, seconds: 1 },
      { rps: 1, p99: 1 },
      { load: { samples: [], seconds: 1 }, payments: [], winners: [], paid: [], ordersEndedAt: 0, apiCpuSeconds: 0 },
      [],
      { busyBefore: 0, loadAverageBefore: [0, 0, 0], loadAverageDuringMax: 0, noisy: false } as unknown as MachineLoad,
      { winner: 1, reject: 1, noop: 1 },
      lag,
    );
    expect(summary).toMatchObject({
      eventsOverheadRatio: baselines.events.campaign.ratio,
      eventLagP99Ms: lag.lagMs.p99,
      eventsDelivered: lag.eventsDelivered,
      eventsExpected: lag.eventsExpected,
    });
    for (const key of ['eventsOverheadRatio', 'eventLagP99Ms', 'eventsDelivered', 'eventsExpected'] as const)
      expect(typeof summary[key]).toBe('number');
  }, 600_000);
});

describeMariadb('the bench on MariaDB: the production layout (--taskset)', () => {
  const cpusOf = (pid: number) =>
    readdirSync(`/proc/${pid}/task`).map(
      (tid) => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'))?.[1],
    );
  const twoCpus = os.cpus().length >= 2;

  (twoCpus ? it : it.skip)(
    'moves every thread of the MariaDB server to CPU 1, and gives each its own CPUs back',
    async () => {
      const conn = await connectMariadb(TEST_MARIADB_URL);
      let pid: number;
      try {
        const [{ f }] = await conn.query<{ f: string }[]>('SELECT @@pid_file AS f');
        pid = Number(readFileSync(f, 'utf8').trim());
      } finally {
        await conn.end();
      }
      const before = cpusOf(pid);
      const pinner = await mariadbServerPinner(TEST_MARIADB_URL, 1);
      try {
        expect(new Set(cpusOf(pid))).toEqual(new Set(['1']));
      } finally {
        await pinner.close();
      }
      // `close` sets every thread, those started meanwhile too (they inherited the pinned mask).
      expect(new Set(cpusOf(pid))).toEqual(new Set(before));
    },
  );
});
