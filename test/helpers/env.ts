/** Test settings: a dedicated database, never the one `npm start` uses. */
import { loadConfig, type Config, type Store } from '../../config';
import { asRole } from '../../prisma/roles';
import { TEST_MARIADB_APP_URL, TEST_MARIADB_URL } from './mariadb';

/**
 * The store the shared suites run on: PostgreSQL, or MariaDB in the `mariadb` jest project
 * (jest.config.js: the store-neutral API, workflow and e2e suites run again with
 * TEST_STORE=mariadb, through the same helpers).
 */
export const TEST_STORE: Store = process.env.TEST_STORE === 'mariadb' ? 'mariadb' : 'postgresql';

/** The DATABASE_URL / MIGRATION_DATABASE_URL pair an app under test gets on `store`. */
export function storeUrls(store: Store = TEST_STORE): Record<string, string> {
  return store === 'mariadb' ? { DATABASE_URL: TEST_MARIADB_APP_URL, MIGRATION_DATABASE_URL: TEST_MARIADB_URL } : {};
}

/** The owner's (superuser's) URL: fixtures, cleanup (TRUNCATE) and most apps under test. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/stockhold_test';

/**
 * The service role's URL on the same database (docs/security.md): the tests that prove least
 * privilege, and the real API/worker processes of the e2e and drain tests, connect with it.
 */
export const TEST_APP_DATABASE_URL = process.env.TEST_APP_DATABASE_URL ?? asRole(TEST_DATABASE_URL, 'stockhold_app');

/** A Redis database index of its own: tests may flush it. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379/14';

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    WEBHOOK_SECRET: 'test-webhook-secret',
    ADMIN_TOKEN: 'test-admin-token',
    LOG_LEVEL: 'silent',
    ...storeUrls(),
    ...overrides,
  });
}
