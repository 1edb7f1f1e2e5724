/**
 * Gives every run a fresh test database at the latest migration: dropped and recreated, so
 * nothing a previous run (or another branch's migrations) left behind can pass or fail a test;
 * the service role (created if missing) gets its privileges as `npm start` gives them.
 */
import { recreateDatabase } from '../../prisma/migrate';
import { TEST_APP_DATABASE_URL, TEST_DATABASE_URL } from './env';

export default async function globalSetup(): Promise<void> {
  // The MariaDB driver reads and writes DATETIME in the process's zone; the service's processes
  // switch to UTC when they open a MySQL pool (platform/mariadb.ts), but a test file's
  // process.env is jest's copy: set it here, before the test processes start.
  process.env.TZ = 'UTC';
  await recreateDatabase(TEST_DATABASE_URL, { serviceUrl: TEST_APP_DATABASE_URL });
}
