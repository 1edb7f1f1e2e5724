/** Jest: ts-jest in transpile-only mode (tsc --noEmit type-checks separately in npm test). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
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
  globalSetup: '<rootDir>/test/helpers/global-setup.ts',
  testTimeout: 120_000,
  // The suites share one PostgreSQL database and Redis: run them one at a time.
  maxWorkers: 1,
};
