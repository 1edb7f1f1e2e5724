/**
 * Jest: ts-jest in transpile-only mode (tsc --noEmit type-checks separately in npm test).
 *
 * Two projects (issue 22: both stores in `npm test`):
 * - `postgresql`: every suite, on PostgreSQL (MariaDB's own suites in test/mariadb/ use their
 *   own MariaDB database, whatever the project);
 * - `mariadb`: the store-neutral suites of MARIADB_MATRIX again, with TEST_STORE=mariadb: their
 *   helpers (test/helpers/db.ts, app.ts, temporal.ts, env.ts) give them the MariaDB store, and the
 *   API and worker under test run on it. A file drives only the API, the worker and the fixtures
 *   that have a MariaDB form; one with PostgreSQL SQL of its own stays out of the list.
 * `npx jest --selectProjects postgresql <file>` runs one store.
 */

/** The suites that run on MariaDB as well (relative to the repository). */
const MARIADB_MATRIX = [
  'test/api/order-story.test.ts',
  'test/api/stock-api.test.ts',
  'test/api/events.test.ts',
  'test/api/one-redis-trip.test.ts',
  'test/api/cancel-unreachable.test.ts',
  'test/api/flash-sale.test.ts',
  'test/api/hold-extension.test.ts',
  'test/api/payment-life.test.ts',
  'test/api/pre-sale.test.ts',
  'test/api/auth.test.ts',
  'test/api/order-reads.test.ts',
  'test/workflows/boot-schedules.test.ts',
  'test/workflows/cache-check.test.ts',
  'test/workflows/transfer.test.ts',
  'test/api/api.test.ts',
  'test/api/request-path.test.ts',
  'test/api/returns.test.ts',
  'test/e2e/saga.e2e.test.ts',
  'test/api/say-what-is-wrong.test.ts',
  'test/workflows/payment-delivery.test.ts',
];

const shared = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    // cookie@1 (used by fastify's inject) ships ESM only; Node 20's jest cannot require it.
    // @fastify/cookie (the console's sessions) loads it with import(), which jest runs only
    // with --experimental-vm-modules: compiled to CommonJS, the import() becomes a require().
    '/node_modules/(cookie|@fastify/cookie)/.+\\.js$': [
      'ts-jest',
      { diagnostics: false, tsconfig: { allowJs: true, module: 'commonjs', target: 'es2022' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(cookie|@fastify/cookie)/)'],
};

module.exports = {
  // The suites share one PostgreSQL database, one MariaDB database and Redis: run them one at a time.
  maxWorkers: 1,
  // In one worker process, not in jest's own: a process that has run 130 files (both projects)
  // grows to gigabytes, and its collector slowed the late suites that answer HTTP in-process
  // (the fuzz test ran out of its 3 minutes in CI). The worker is replaced between files once it
  // holds more than this.
  workerIdleMemoryLimit: '1500MB',
  testTimeout: 120_000,
  projects: [
    {
      ...shared,
      displayName: 'postgresql',
      testMatch: ['**/*.test.ts'],
      globalSetup: '<rootDir>/test/helpers/global-setup.ts',
    },
    {
      ...shared,
      displayName: 'mariadb',
      testMatch: MARIADB_MATRIX.map((file) => `<rootDir>/${file}`),
      globalSetup: '<rootDir>/test/helpers/global-setup-mariadb.ts',
      setupFiles: ['<rootDir>/test/helpers/store-mariadb.ts'],
    },
  ],
};
