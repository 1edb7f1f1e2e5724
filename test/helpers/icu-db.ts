/**
 * A second test database whose default collation is ICU en-US, as on the official postgres
 * images and hosted PostgreSQL ('sku_a' < 'sku-B', 'b' < 'C'), where `ORDER BY sku` and
 * byte order disagree. Named from TEST_DATABASE_URL + '_icu', so parallel runs with their
 * own TEST_DATABASE_URL never share it; dropped, recreated and migrated by each suite that
 * uses it. Works without an en_US OS locale: ICU ships with PostgreSQL (15+).
 */
import { Client } from 'pg';
import { createDb, type Db } from '../../data/db';
import { migrate } from '../../prisma/migrate';
import { TEST_DATABASE_URL } from './env';

export const ICU_DATABASE_URL = (() => {
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `${url.pathname}_icu`;
  return url.toString();
})();

/** Drops and recreates the en-US database at the latest migration; returns a client. */
export async function recreateIcuDatabase(maxConnections = 20): Promise<Db> {
  const name = decodeURIComponent(new URL(ICU_DATABASE_URL).pathname.slice(1));
  if (!/^[\w-]*test[\w-]*_icu$/.test(name)) throw new Error(`refusing to drop "${name}": not a test database`);
  const admin = new URL(ICU_DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await client.query(
      `CREATE DATABASE "${name}" TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'`,
    );
  } finally {
    await client.end();
  }
  await migrate(ICU_DATABASE_URL);
  return createDb(ICU_DATABASE_URL, { maxConnections });
}
