/**
 * Gives every run a fresh test database at the latest migration: dropped and recreated, so
 * nothing a previous run (or another branch's migrations) left behind can pass or fail a test.
 */
import { Client } from 'pg';
import { migrate } from '../../prisma/migrate';
import { TEST_DATABASE_URL } from './env';

export default async function globalSetup(): Promise<void> {
  const target = new URL(TEST_DATABASE_URL);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[\w-]*test[\w-]*$/.test(name)) throw new Error(`refusing to drop "${name}": a test database name must contain "test"`);
  const admin = new URL(TEST_DATABASE_URL);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
  await migrate(TEST_DATABASE_URL);
}
