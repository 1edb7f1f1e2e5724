/**
 * The `mariadb` jest project's setup file (jest.config.js): runs before each of its test files
 * loads, so the helpers (test/helpers/env.ts TEST_STORE) give the suite the MariaDB store.
 *
 * Its own Redis index too: jest interleaves the two projects' files, and a suite run on
 * PostgreSQL right after its MariaDB run would meet the rate-limit buckets, gate tokens and
 * cache entries the other left (TEST_MARIADB_REDIS_URL; by default the index after
 * TEST_REDIS_URL's, 14 → 15).
 */
process.env.TEST_STORE = 'mariadb';
process.env.TZ = 'UTC';
process.env.TEST_REDIS_URL = process.env.TEST_MARIADB_REDIS_URL ?? nextIndex(process.env.TEST_REDIS_URL);

function nextIndex(url = 'redis://127.0.0.1:6379/14'): string {
  const redis = new URL(url);
  const index = Number(redis.pathname.slice(1) || '0');
  redis.pathname = `/${index >= 15 ? index - 1 : index + 1}`;
  return redis.toString();
}
