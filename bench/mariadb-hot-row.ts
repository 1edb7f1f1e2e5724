/**
 * The hot row on MariaDB (issue 22, item 5, a first measure; docs/mysql.md#figures): in one run,
 *
 *  1. the raw hot-row baseline — `UPDATE bench_hot_pool SET remaining = remaining - 1 WHERE
 *     id = 'C' AND remaining >= 1`, prepared, one per autocommit transaction, from
 *     `--connections` sessions for `--seconds` (the shape of bench/baselines.ts's r0);
 *  2. holds/s of the group-commit batch (`CALL stockhold_hold_batch`, data/mariadb/hold-batch.ts)
 *     through the service's own GroupCommit (2 batches in flight, up to 100 each): `--units`
 *     single-unit orders from `--concurrency` callers on one flash sale, then the same on one
 *     stock level; holds / sell-out seconds, as BENCHMARKS.md's holdsPerSecond;
 *  3. checks: exactly `--units` holds each, nothing oversold, no drift.
 *
 * No HTTP, no Temporal, no Redis: it measures the database's share only. It drops and recreates
 * the database it is given (a scratch one: its name must say bench).
 *
 *   node --import tsx bench/mariadb-hot-row.ts [--url mariadb://root@127.0.0.1:3306/stockhold_mysql_bench]
 *        [--connections 10] [--seconds 5] [--units 5000] [--concurrency 200]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import type { Pool } from 'mariadb';
import { holdBatchOnMariadb, type MariadbBatchItem, type MariadbBatchPool } from '../data/mariadb/hold-batch';
import { mariadbDrifts } from '../data/mariadb/reconcile';
import { GroupCommit } from '../platform/group-commit';
import { createMariadbPool } from '../platform/mariadb';
import { recreateMysqlDatabase } from '../prisma/mysql-migrate';
import { hotRowLoop } from './mariadb-store';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'mariadb://root@127.0.0.1:3306/stockhold_mysql_bench' },
    connections: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '5' },
    units: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '200' },
  },
});
const url = values.url!;
const connections = Number(values.connections);
const seconds = Number(values.seconds);
const units = Number(values.units);
const concurrency = Number(values.concurrency);

/** One conditional UPDATE per autocommit transaction, as fast as `connections` sessions go (bench/mariadb-store.ts). */
async function rawHotRow(pool: Pool): Promise<number> {
  await pool.query('CREATE TABLE bench_hot_pool (id VARCHAR(16) PRIMARY KEY, remaining INT NOT NULL) ENGINE=InnoDB');
  await pool.query("INSERT INTO bench_hot_pool VALUES ('C', 100000000)");
  return hotRowLoop(pool, seconds, connections);
}

function order(serial: string, sku: string): MariadbBatchItem {
  const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
  return {
    serial,
    orderId: serial,
    userId: `u-${serial}`,
    quantity: 1,
    expiresAt,
    reserved: {
      status: 'reserved',
      reservationId: serial,
      lines: [{ sku, warehouseCode: 'W1', quantity: 1 }],
      allocations: [],
      expiresAt,
    },
    saga: { orderId: serial },
  };
}

/** `units` orders of one unit on a pool of `units`, from `concurrency` callers: holds / sell-out seconds. */
async function batchedHolds(pool: Pool, target: MariadbBatchPool, sku: string, prefix: string) {
  const batches: number[] = [];
  const commit = new GroupCommit<MariadbBatchItem, unknown>(
    async (_key, items) => {
      batches.push(items.length);
      return holdBatchOnMariadb(pool, target, items);
    },
    100,
    2,
  );
  let next = 0;
  let held = 0;
  const started = performance.now();
  let soldOutAt = started;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < units) {
        const serial = `${prefix}-${next++}`;
        const outcome = (await commit.submit('hot', order(serial, sku))) as { status?: string };
        if (outcome.status === 'reserved' && ++held === units) soldOutAt = performance.now();
      }
    }),
  );
  const sellOutSeconds = (soldOutAt - started) / 1000;
  const meanBatch = batches.reduce((a, b) => a + b, 0) / batches.length;
  return { held, sellOutSeconds, holdsPerSecond: held / sellOutSeconds, batches: batches.length, meanBatch };
}

async function main(): Promise<void> {
  await recreateMysqlDatabase(url);
  const pool = createMariadbPool(url, { connectionLimit: Math.max(connections, 4) });
  try {
    const load = loadavg()
      .map((l) => l.toFixed(2))
      .join(' ');
    const raw = await rawHotRow(pool);
    await pool.query("INSERT INTO products (sku, name) VALUES ('FLASH', 'flash'), ('PLAIN', 'plain')");
    await pool.query("INSERT INTO warehouses (code, name) VALUES ('W1', 'W1')");
    await pool.query(
      "INSERT INTO inventory_levels (sku, warehouse_code, on_hand, reserved) VALUES ('FLASH', 'W1', ?, ?), ('PLAIN', 'W1', ?, 0)",
      [units, units, units],
    );
    await pool.query(
      `INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta)
       VALUES ('FLASH', 'W1', 'RECEIPT', 'bench', ?, 0), ('FLASH', 'W1', 'CAMPAIGN', 'c-bench', 0, ?), ('PLAIN', 'W1', 'RECEIPT', 'bench', ?, 0)`,
      [units, units, units],
    );
    await pool.query(
      `INSERT INTO campaigns (id, sku, warehouse_code, starts_at, ends_at, quota, per_user_limit, remaining)
       VALUES ('c-bench', 'FLASH', 'W1', UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE, UTC_TIMESTAMP(3) + INTERVAL 1 HOUR, ?, 10, ?)`,
      [units, units],
    );
    const flash = await batchedHolds(pool, { kind: 'campaign', campaignId: 'c-bench' }, 'FLASH', 'flash');
    const plain = await batchedHolds(pool, { kind: 'level', sku: 'PLAIN', warehouseCode: 'W1' }, 'PLAIN', 'plain');
    const [{ remaining }] = await pool.query<{ remaining: number }[]>(
      "SELECT remaining FROM campaigns WHERE id = 'c-bench'",
    );
    const [{ reserved }] = await pool.query<{ reserved: number }[]>(
      "SELECT reserved FROM inventory_levels WHERE sku = 'PLAIN'",
    );
    const drifts = await mariadbDrifts(pool);
    const checks =
      flash.held === units && plain.held === units && remaining === 0 && reserved === units && drifts.length === 0;
    const report = {
      machine: {
        loadAverageAtStart: load,
        loadAverageAtEnd: loadavg()
          .map((l) => l.toFixed(2))
          .join(' '),
      },
      options: { url: url.replace(/:[^:@/]*@/, ':***@'), connections, seconds, units, concurrency },
      rawHotRowUpdatesPerSecond: Math.round(raw),
      flashSale: {
        ...flash,
        holdsPerSecond: Math.round(flash.holdsPerSecond),
        ratioToRaw: +(flash.holdsPerSecond / raw).toFixed(2),
      },
      plainLevel: {
        ...plain,
        holdsPerSecond: Math.round(plain.holdsPerSecond),
        ratioToRaw: +(plain.holdsPerSecond / raw).toFixed(2),
      },
      checksPassed: checks,
      drifts,
    };
    console.log(JSON.stringify(report, null, 2));
    if (!checks) {
      console.error('CHECK FAILED');
      process.exitCode = 1;
    }
  } finally {
    await pool.end();
  }
}

main().catch((err: Error) => {
  console.error(err);
  process.exit(1);
});
