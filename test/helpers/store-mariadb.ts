/**
 * The `mariadb` jest project's setup file (jest.config.js): runs before each of its test files
 * loads, so the helpers (test/helpers/env.ts TEST_STORE) give the suite the MariaDB store.
 */
process.env.TEST_STORE = 'mariadb';
process.env.TZ = 'UTC';
