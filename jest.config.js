/** Jest: ts-jest in transpile-only mode (tsc --noEmit type-checks separately in npm test). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { diagnostics: false }] },
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  testTimeout: 120_000,
  // The suites share one PostgreSQL database and Redis: run them one at a time.
  maxWorkers: 1,
};
