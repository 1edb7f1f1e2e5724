// ESLint 9 flat config, type-aware (typescript-eslint's project service reads tsconfig.json).
// docs/testing-and-lint.md says what each rule guards and why.
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** Node built-ins by their bare names (fs, path, crypto, timers, ...); `node:*` is a pattern below. */
const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('node:'));

/** A relative import that leaves workflows/ for anything of ours but domain/. */
const OUTSIDE_WORKFLOWS =
  '^(\\.\\./)+(data|activities|api|platform|use-cases|config|prisma|generated|scripts|bench|chaos|test|worker)(/|$)';

/**
 * What workflow code must not import. Workflows run in Temporal's deterministic sandbox and are
 * replayed from history: no Node built-ins (the sandbox has none; time, randomness and I/O come
 * from the SDK), no database/Redis/HTTP clients, no activity or client side of the SDK, and
 * nothing of ours but domain/ and workflows/ (message and activity definitions).
 */
const workflowRestrictions = {
  paths: [
    ...nodeBuiltins.map((name) => ({
      name,
      message: 'No Node built-ins in workflows: they do not exist in the Temporal sandbox and are not replay-safe.',
    })),
    { name: 'ioredis', message: 'No Redis in workflows: I/O belongs in an activity.' },
    { name: 'pg', message: 'No PostgreSQL in workflows: I/O belongs in an activity.' },
    { name: 'fastify', message: 'No HTTP server in workflows.' },
    { name: 'undici', message: 'No HTTP in workflows: I/O belongs in an activity.' },
    { name: 'pino', message: 'Log from workflows with `log` from @temporalio/workflow (replay-aware).' },
  ],
  patterns: [
    { group: ['node:*'], message: 'No Node built-ins in workflows.' },
    { group: ['@prisma/*', 'prisma', 'prisma/*'], message: 'No Prisma in workflows: I/O belongs in an activity.' },
    { group: ['pg-*', 'prom-client', '@fastify/*'], message: 'No I/O packages in workflows.' },
    {
      regex: '^@temporalio/(activity|client|worker|testing)(/|$)',
      message: 'Workflows use only @temporalio/workflow and @temporalio/common.',
    },
    {
      regex: OUTSIDE_WORKFLOWS,
      message: 'Workflows import only domain/ and workflows/ (see docs/testing-and-lint.md).',
    },
  ],
};

/**
 * One owner per table: only data/ (and prisma/: migrations, roles, seed) talks to PostgreSQL.
 * Everything above data/ calls a data/ module named for the table or aggregate. Tests, the
 * bench, the chaos suite and the history capture (scripts/histories/, a test fixture driver
 * built on test/helpers) are exempt: they set up and check the house from outside and read
 * the tables directly on purpose. The Prisma models' delegate names are read
 * from both schemas (PostgreSQL's and MySQL's, prisma/mysql/schema.prisma), so a new model is
 * covered without touching this file.
 */
const prismaDelegates = [
  ...new Set(
    ['prisma/schema.prisma', 'prisma/mysql/schema.prisma'].flatMap((schema) =>
      [...readFileSync(`${import.meta.dirname}/${schema}`, 'utf8').matchAll(/^model\s+(\w+)/gm)].map(
        ([, model]) => model[0].toLowerCase() + model.slice(1),
      ),
    ),
  ),
];
const PRISMA_METHODS =
  'findUnique|findUniqueOrThrow|findFirst|findFirstOrThrow|findMany|create|createMany|createManyAndReturn|update|updateMany|updateManyAndReturn|upsert|delete|deleteMany|count|aggregate|groupBy';
const DATA_ACCESS =
  'Queries live in data/ (one module per table or aggregate): call one, or add it there (docs/testing-and-lint.md).';
const dataAccess = {
  imports: {
    paths: [{ name: 'pg', allowTypeImports: true, message: `No pg client above data/. ${DATA_ACCESS}` }],
    patterns: [
      { regex: '(^|/)generated/prisma(-mysql)?(/|$)', message: `The Prisma clients are data/'s. ${DATA_ACCESS}` },
      { regex: '^@prisma/', message: `The Prisma client is data/'s. ${DATA_ACCESS}` },
    ],
  },
  syntax: [
    {
      selector:
        'MemberExpression[property.name=/^\\$(queryRaw|executeRaw|queryRawUnsafe|executeRawUnsafe|transaction)$/]',
      message: `No raw SQL or transactions above data/. ${DATA_ACCESS}`,
    },
    {
      selector: `CallExpression[callee.property.name=/^(${PRISMA_METHODS})$/][callee.object.property.name=/^(${prismaDelegates.join('|')})$/]`,
      message: `No Prisma model queries (db.<model>.<method>) above data/. ${DATA_ACCESS}`,
    },
  ],
};

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', '.tools/**', '.data/**', 'coverage/**', 'generated/**', '**/*.d.ts'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A promise nobody awaits loses its rejection (an unhandled rejection kills the process) and
      // its ordering. Fire-and-forget is allowed only when written `void promise` with a comment why.
      '@typescript-eslint/no-floating-promises': ['error', { ignoreVoid: true }],
      // A variable read by a closure before its one assignment (a signal handler set up before the thing it stops) cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // A promise passed where a plain callback is expected (event emitters, timers, forEach) runs
      // unawaited. Fastify accepts async handlers and hooks, so those are typed to return promises and
      // are not flagged; `void` returns in object properties are checked too.
      '@typescript-eslint/no-misused-promises': [
        'error',
        { checksVoidReturn: { arguments: true, attributes: false, properties: true } },
      ],
      '@typescript-eslint/await-thenable': 'error',
      // Types are imported as types: they vanish from the emitted JavaScript (isolatedModules), and a
      // reader sees at the import which dependencies are only for types.
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'inline-type-imports' },
      ],
      '@typescript-eslint/no-import-type-side-effects': 'error',
      // tsc's noUnusedLocals already reports unused locals; `_`-prefixed parameters are intentional.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none', ignoreRestSiblings: true },
      ],
    },
  },
  {
    // One owner per table (see dataAccess). Workflows get the stricter list below, which
    // replaces this import rule for them; the syntax rule applies there too.
    files: ['**/*.ts'],
    ignores: ['data/**', 'prisma/**', 'test/**', 'bench/**', 'chaos/**', 'scripts/histories/**'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', dataAccess.imports],
      'no-restricted-syntax': ['error', ...dataAccess.syntax],
    },
  },
  {
    // Workflow code: the deterministic sandbox (see workflowRestrictions).
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': 'off',
      '@typescript-eslint/no-restricted-imports': ['error', workflowRestrictions],
    },
  },
  {
    // Plain JavaScript config files (jest.config.js, .dependency-cruiser.cjs): CommonJS, Node globals.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { module: 'writable', require: 'readonly', __dirname: 'readonly', process: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
