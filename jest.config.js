/** Jest: ts-jest in transpile-only mode (tsc --noEmit type-checks separately in npm test). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { diagnostics: false }],
    // cookie@1 (used by fastify's inject) ships ESM only; Node 20's jest cannot require it.
    '/node_modules/cookie/.+\\.js$': [
      'ts-jest',
      { diagnostics: false, tsconfig: { allowJs: true, module: 'commonjs', target: 'es2022' } },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!cookie/)'],
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  testTimeout: 120_000,
  // The suites share one PostgreSQL database and Redis: run them one at a time.
  maxWorkers: 1,
};
