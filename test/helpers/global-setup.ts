/**
 * Gives every run a fresh test database at the latest migration: dropped and recreated, so
 * nothing a previous run (or another branch's migrations) left behind can pass or fail a test;
 * the service role (created if missing) gets its privileges as `npm start` gives them.
 */
import { recreateDatabase } from '../../prisma/migrate';
import { TEST_APP_DATABASE_URL, TEST_DATABASE_URL } from './env';

export default async function globalSetup(): Promise<void> {
  await recreateDatabase(TEST_DATABASE_URL, { serviceUrl: TEST_APP_DATABASE_URL });
}
