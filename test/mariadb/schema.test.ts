/**
 * The MariaDB schema (issue 22): its core tables have PostgreSQL's columns (the drift test),
 * and its migrations are resumable: a run stopped between steps (MySQL commits each DDL)
 * resumes where it stopped, a step that committed without its record re-runs harmlessly, and
 * a recorded step whose text changed is refused before anything runs.
 */
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { migrate } from '../../prisma/migrate';
import { listMysqlSteps, migrateMysql, MysqlStepChangedError, recreateMysqlDatabase } from '../../prisma/mysql-migrate';
import { connectMariadb } from '../../platform/mariadb';
import { TEST_DATABASE_URL } from '../helpers/env';
import { describeMariadb, TEST_MARIADB_APP_URL, TEST_MARIADB_URL, columnTypeSql } from '../helpers/mariadb';

/** The tables issue 22's foundation builds on MariaDB. */
const CORE_TABLES = [
  'products',
  'warehouses',
  'inventory_levels',
  'stock_lots',
  'reservations',
  'reservation_lines',
  'operation_fences',
  'stock_movements',
  'campaigns',
  'campaign_user_counts',
  'cache_outbox',
  'saga_starts',
  // Payments (0020_payments), cache checks (0030), keys, audit, alerts and reconciliation (0050_ops).
  'payment_events',
  'payments',
  'payment_deliveries',
  'api_keys',
  'admin_audit',
  'stock_alerts',
  'reconciliation_runs',
  'cache_checks',
  // Hold extensions and returns (0060_after_checkout).
  'hold_extensions',
  'return_lines',
  // Transfers (0070_transfers).
  'transfers',
  // Stock events (0080_events).
  'event_outbox',
  'event_channel_cursors',
  'event_subscriptions',
  'event_deliveries',
];

/** Lists: a PostgreSQL array is a JSON array on MySQL (no array type there). */
const LIST_COLUMNS = new Set([
  'api_keys.scopes',
  'event_subscriptions.types',
  'event_subscriptions.skus',
  'event_subscriptions.warehouses',
]);

/** Columns only MariaDB has, and why. */
const MARIADB_ONLY = new Set([
  // The "once per transaction" key of an event: MySQL has no partial unique index (0080_events).
  'event_outbox.once_key',
]);

/** A column type as a family both stores share. */
function family(type: string): string {
  const t = type.toLowerCase();
  if (/^(text|character varying|varchar|longtext|mediumtext)$/.test(t)) return 'text';
  if (/^(integer|int)$/.test(t)) return 'int';
  // xid8 (PostgreSQL's transaction id) is an unsigned 64-bit number; MariaDB's writer id is a BIGINT UNSIGNED.
  if (t === 'bigint' || t === 'xid8') return 'bigint';
  if (/^(boolean|tinyint)$/.test(t)) return 'boolean';
  if (/^(double precision|double)$/.test(t)) return 'double';
  if (/^(timestamp with time zone|datetime)$/.test(t)) return 'timestamp';
  if (/^(jsonb|json)$/.test(t)) return 'json';
  return t;
}

/** A column's family, lists named as such on both stores. */
const columnFamily = (r: { t: string; c: string; type: string }) =>
  LIST_COLUMNS.has(`${r.t}.${r.c}`) ? 'list' : family(r.type);

type Columns = Map<string, { family: string; nullable: boolean }>;

async function pgColumns(): Promise<Columns> {
  const pg = new Client({ connectionString: TEST_DATABASE_URL });
  await pg.connect();
  try {
    const { rows } = await pg.query<{ t: string; c: string; type: string; nullable: string }>(
      `SELECT table_name AS t, column_name AS c, data_type AS type, is_nullable AS nullable FROM information_schema.columns
        WHERE table_schema = 'public' AND table_name = ANY($1::text[])`,
      [CORE_TABLES],
    );
    return new Map(rows.map((r) => [`${r.t}.${r.c}`, { family: columnFamily(r), nullable: r.nullable === 'YES' }]));
  } finally {
    await pg.end();
  }
}

async function mariadbColumns(): Promise<Columns> {
  const conn = await connectMariadb(TEST_MARIADB_URL);
  try {
    const rows = await conn.query<{ t: string; c: string; type: string; nullable: string }[]>(
      `SELECT col.table_name AS t, col.column_name AS c, col.is_nullable AS nullable,
              ${columnTypeSql('data_type')} AS type
         FROM information_schema.columns col
        WHERE col.table_schema = DATABASE() AND col.table_name IN (?)`,
      [CORE_TABLES],
    );
    return new Map(
      rows
        .filter((r) => !MARIADB_ONLY.has(`${r.t}.${r.c}`))
        .map((r) => [`${r.t}.${r.c}`, { family: columnFamily(r), nullable: r.nullable === 'YES' }]),
    );
  } finally {
    await conn.end();
  }
}

async function recordedSteps(): Promise<string[]> {
  const conn = await connectMariadb(TEST_MARIADB_URL);
  try {
    const rows = await conn.query<{ k: string }[]>(
      "SELECT CONCAT(migration, '/', step) AS k FROM _stockhold_mysql_steps ORDER BY migration, finished_at, step",
    );
    return rows.map((r) => r.k);
  } finally {
    await conn.end();
  }
}

describeMariadb('MariaDB schema and migrations', () => {
  const allSteps = listMysqlSteps().map((s) => `${s.migration}/${s.name}`);

  test('the core tables have the columns PostgreSQL has (names, type families, nullability)', async () => {
    await recreateMysqlDatabase(TEST_MARIADB_URL, { serviceUrl: TEST_MARIADB_APP_URL });
    const [pg, my] = await Promise.all([pgColumns(), mariadbColumns()]);
    expect(pg.size).toBeGreaterThan(80);
    const describe = (m: Columns) =>
      Object.fromEntries(
        [...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, `${v.family}${v.nullable ? '?' : ''}`]),
      );
    expect(describe(my)).toEqual(describe(pg));
  });

  test('a run stopped between steps resumes at the first step not recorded, then has nothing left to do', async () => {
    const first = await recreateMysqlDatabase(TEST_MARIADB_URL, { stopAfterSteps: 5 });
    expect(first).toEqual(allSteps.slice(0, 5));
    expect(await recordedSteps()).toEqual(allSteps.slice(0, 5));
    const rest = await migrateMysql(TEST_MARIADB_URL);
    expect(rest).toEqual(allSteps.slice(5));
    expect(await migrateMysql(TEST_MARIADB_URL)).toEqual([]);
    // prisma/migrate.ts's entry point hands a mariadb:// URL to this runner (it has nothing left to do).
    expect(await migrate(TEST_MARIADB_URL)).toEqual([]);
  });

  test('a step that committed without its record (a crash in between) re-runs harmlessly', async () => {
    await recreateMysqlDatabase(TEST_MARIADB_URL);
    const conn = await connectMariadb(TEST_MARIADB_URL);
    try {
      await conn.query("INSERT INTO products (sku, name) VALUES ('KEEP', 'kept')");
      // The crash window: products and key-lock slots applied, their records lost.
      await conn.query("DELETE FROM _stockhold_mysql_steps WHERE step IN ('products', 'stockhold_key_locks_slots')");
      expect(await migrateMysql(TEST_MARIADB_URL)).toEqual([
        '0001_core/products',
        '0001_core/stockhold_key_locks_slots',
      ]);
      const [{ n }] = await conn.query<{ n: number }[]>("SELECT COUNT(*) AS n FROM products WHERE sku = 'KEEP'");
      expect(Number(n)).toBe(1);
      const [{ slots }] = await conn.query<{ slots: number }[]>('SELECT COUNT(*) AS slots FROM stockhold_key_locks');
      expect(Number(slots)).toBe(65_536);
    } finally {
      await conn.end();
    }
  });

  test('a recorded step whose text changed is refused, and nothing after it runs', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mysql-migrations-'));
    cpSync(path.join(__dirname, '../../prisma/mysql/migrations'), dir, { recursive: true });
    await recreateMysqlDatabase(TEST_MARIADB_URL, { dir, stopAfterSteps: 3 });
    const file = path.join(dir, '0001_core/migration.sql');
    writeFileSync(file, readFileSync(file, 'utf8').replace('name TEXT NOT NULL,', 'name TEXT NULL,'));
    await expect(migrateMysql(TEST_MARIADB_URL, () => {}, { dir })).rejects.toBeInstanceOf(MysqlStepChangedError);
    expect(await recordedSteps()).toEqual(allSteps.slice(0, 3));
  });
});
