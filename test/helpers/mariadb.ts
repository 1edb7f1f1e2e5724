/**
 * MariaDB for test/mariadb/ (issue 22): its own database (TEST_MARIADB_URL), dropped and
 * migrated by each suite, the service user's URL, fixtures written as the owner, and a probe
 * so the suites skip — loudly — only when no MariaDB answers.
 */
import { execFileSync } from 'node:child_process';
import type { Pool } from 'mariadb';
import { createMariadbPool, mariadbConfig } from '../../platform/mariadb';
import { asRole } from '../../prisma/roles';
import { recreateMysqlDatabase } from '../../prisma/mysql-migrate';
import { createDb, type Db } from '../../data/db';

/** The owner's (root's) URL of the test database. */
export const TEST_MARIADB_URL = process.env.TEST_MARIADB_URL ?? 'mariadb://root@127.0.0.1:3306/stockhold_mysql_test';

/** The service user's URL on the same database (created without a password by the migration run). */
export const TEST_MARIADB_APP_URL = asRole(TEST_MARIADB_URL, process.env.TEST_MARIADB_APP_USER ?? 'stockhold_app');

/**
 * Whether a MariaDB answers at TEST_MARIADB_URL's server (a child process: jest's describe
 * cannot wait for a promise). When none does, says so in capitals: a skipped store is not a
 * passed one.
 */
export function mariadbAnswers(): boolean {
  const server = new URL(TEST_MARIADB_URL);
  server.pathname = '/';
  const { host, port, user, password } = mariadbConfig(server.toString());
  const probe = `require(${JSON.stringify(require.resolve('mariadb'))}).createConnection(${JSON.stringify({ host, port, user, password, connectTimeout: 5000 })})
    .then((c) => c.end()).then(() => process.exit(0), () => process.exit(1))`;
  try {
    execFileSync(process.execPath, ['-e', probe], { timeout: 15_000, stdio: 'ignore' });
    return true;
  } catch {
    console.warn(
      `\n!!!!! NO MARIADB ANSWERS AT ${server.host}: THE MARIADB SUITES ARE SKIPPED, NOTHING ABOUT MYSQL/MARIADB WAS TESTED !!!!!\n`,
    );
    return false;
  }
}

/** `describe`, or `describe.skip` when no MariaDB answers. */
export function describeMariadb(name: string, suite: () => void): void {
  answers ??= mariadbAnswers();
  (answers ? describe : describe.skip)(name, suite);
}
/** The probe's answer, asked once per test file and only by a file that has MariaDB suites. */
let answers: boolean | undefined;

/** A pool on the test database: as the owner, or as the service user. */
export function mariadbPool(connectionLimit = 10, url = TEST_MARIADB_URL): Pool {
  return createMariadbPool(url, { connectionLimit, lockWaitSeconds: 30 });
}

/** A product, a warehouse and its level with `onHand` received through the ledger (as a receipt would). */
export async function seedLevel(pool: Pool, sku: string, warehouseCode: string, onHand: number): Promise<void> {
  await pool.query('INSERT IGNORE INTO products (sku, name) VALUES (?, ?)', [sku, sku]);
  await pool.query('INSERT IGNORE INTO warehouses (code, name) VALUES (?, ?)', [warehouseCode, warehouseCode]);
  await pool.query('INSERT INTO inventory_levels (sku, warehouse_code, on_hand) VALUES (?, ?, ?)', [
    sku,
    warehouseCode,
    onHand,
  ]);
  await pool.query(
    `INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta, on_hand_before, on_hand_after)
     VALUES (?, ?, 'RECEIPT', 'seed', ?, 0, 0, ?)`,
    [sku, warehouseCode, onHand, onHand],
  );
}

/** A flash sale of `quota` units set aside from its level (held in the level's reserved, with its ledger row). */
export async function seedCampaign(
  pool: Pool,
  id: string,
  sku: string,
  warehouseCode: string,
  quota: number,
  perUserLimit: number,
) {
  await pool.query('UPDATE inventory_levels SET reserved = reserved + ? WHERE sku = ? AND warehouse_code = ?', [
    quota,
    sku,
    warehouseCode,
  ]);
  await pool.query(
    `INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta) VALUES (?, ?, 'CAMPAIGN', ?, 0, ?)`,
    [sku, warehouseCode, id, quota],
  );
  await pool.query(
    `INSERT INTO campaigns (id, sku, warehouse_code, starts_at, ends_at, quota, per_user_limit, remaining)
     VALUES (?, ?, ?, UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE, UTC_TIMESTAMP(3) + INTERVAL 1 HOUR, ?, ?, ?)`,
    [id, sku, warehouseCode, quota, perUserLimit, quota],
  );
}

/** One level's counters. */
export async function levelOf(
  pool: Pool,
  sku: string,
  warehouseCode: string,
): Promise<{ onHand: number; reserved: number }> {
  const [row] = await pool.query<{ on_hand: number; reserved: number }[]>(
    'SELECT on_hand, reserved FROM inventory_levels WHERE sku = ? AND warehouse_code = ?',
    [sku, warehouseCode],
  );
  return { onHand: row.on_hand, reserved: row.reserved };
}

/**
 * The service's own `Db` on the MariaDB test database, as the service user: what the API and
 * the worker get from `createDb` for a mariadb:// DATABASE_URL (data/mariadb/db.ts).
 */
export function mariadbServiceDb(connections = 10): Db {
  return createDb(TEST_MARIADB_APP_URL, { maxConnections: connections });
}

/** Drops, recreates and migrates the MariaDB test database (the owner's URL, the service user's grants). */
export async function resetMariadb(): Promise<void> {
  await recreateMysqlDatabase(TEST_MARIADB_URL, { serviceUrl: TEST_MARIADB_APP_URL });
}

/**
 * Empties `tables` of the MariaDB test database as its owner (TRUNCATE fires no DELETE
 * trigger, so the append-only tables empty too, and AUTO_INCREMENT restarts), for
 * test/helpers/db.ts resetDb in the `mariadb` jest project. A relay still closing may hold a
 * table's metadata lock for a moment: the wait is bounded and the reset runs again.
 */
export async function truncateMariadb(tables: readonly string[]): Promise<void> {
  const pool = mariadbPool(1);
  try {
    for (let attempt = 1; ; attempt += 1) {
      try {
        const conn = await pool.getConnection();
        try {
          await conn.query('SET SESSION lock_wait_timeout = 10, FOREIGN_KEY_CHECKS = 0');
          for (const table of tables) await conn.query(`TRUNCATE TABLE ${table}`);
        } finally {
          await conn.release();
        }
        return;
      } catch (err) {
        if (attempt >= 5 || !/Lock wait timeout|Deadlock/i.test(String(err))) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
      }
    }
  } finally {
    await pool.end();
  }
}

/**
 * A column's type as the MariaDB drift tests compare it (`col` is information_schema.columns):
 * `typeColumn`, or 'json' for MariaDB's JSON, a LONGTEXT with a json_valid() CHECK named after
 * the column (MySQL 8 has a json type).
 */
export function columnTypeSql(typeColumn: 'column_type' | 'data_type'): string {
  return `CASE WHEN EXISTS (SELECT 1 FROM information_schema.check_constraints cc
                             WHERE cc.constraint_schema = col.table_schema AND cc.table_name = col.table_name
                               AND cc.constraint_name = col.column_name AND cc.check_clause LIKE 'json_valid(%')
               THEN 'json' ELSE col.${typeColumn} END`;
}
