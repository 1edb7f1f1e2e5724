/**
 * Import rules checked by `npm run lint` (depcruise). docs/testing-and-lint.md says why each exists.
 * Type-only imports count (tsPreCompilationDeps): a cycle through `import type` is still a cycle a
 * reader has to untangle, and it becomes a runtime cycle the day someone imports a value.
 */

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'No import cycles, type-only imports included: break them by moving the shared piece down (domain/) or by passing a dependency in.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'domain-imports-only-domain',
      severity: 'error',
      comment:
        'domain/ is pure rules and types: it imports nothing of ours outside domain/ (no data layer, platform or config) and no ' +
        'package or Node built-in that does I/O. Today it imports nothing but domain/; a pure library may be allowed here by name.',
      from: { path: '^domain/' },
      to: { pathNot: '^domain/' },
    },
    {
      name: 'workflows-import-only-domain-and-workflows',
      severity: 'error',
      comment:
        'Workflow code runs in the deterministic Temporal sandbox and is replayed from history: it imports only workflows/ (message and ' +
        'activity definitions), domain/ and @temporalio/workflow|common. Nothing of the data layer, activities, api, platform or config, ' +
        'not even as a type (the workflow bundle must not depend on how the I/O side is arranged).',
      from: { path: '^workflows/' },
      to: {
        pathNot: ['^workflows/', '^domain/', '^node_modules/@temporalio/(workflow|common)/', '^node_modules/@types/'],
      },
    },
    {
      name: 'workflows-no-core',
      severity: 'error',
      comment: 'No Node built-ins in workflow code: the sandbox has none, and they are not deterministic.',
      from: { path: '^workflows/' },
      to: { dependencyTypes: ['core'] },
    },
    // The floors, top to bottom (docs/architecture.md#where-the-code-lives): the entry points (api/, activities/,
    // worker.ts, scripts/) call use-cases/ and data/; use-cases/ calls data/; data/ calls platform/; domain/ is
    // beside all of them. No arrow runs back up.
    {
      name: 'platform-not-to-data',
      severity: 'error',
      comment:
        'platform/ is process plumbing (connections, queues, metrics, Temporal setup): it knows no table. Pass what it needs in.',
      from: { path: '^platform/' },
      to: { path: '^data/' },
    },
    {
      name: 'platform-not-to-workflows',
      severity: 'error',
      comment:
        "platform/ knows none of our workflows: which schedules and search attributes the service has is use-cases/schedules.ts's; " +
        'the dev server is told which attributes to create.',
      from: { path: '^platform/' },
      to: { path: '^workflows/' },
    },
    {
      name: 'platform-not-up',
      severity: 'error',
      comment: 'platform/ is the bottom floor: nothing of use-cases/, activities/, api/ or worker.ts.',
      from: { path: '^platform/' },
      to: { path: '^(use-cases|activities|api)/|^worker\\.ts$' },
    },
    {
      name: 'data-not-to-workflows',
      severity: 'error',
      comment:
        'data/ owns the tables and knows no workflow: the saga types it stores (OrderWorkflowInput, OrderState) live in domain/order-saga.ts.',
      from: { path: '^data/' },
      to: { path: '^workflows/' },
    },
    {
      name: 'data-not-up',
      severity: 'error',
      comment: 'data/ answers queries; it never calls a use case, an activity, a route or the worker.',
      from: { path: '^data/' },
      to: { path: '^(use-cases|activities|api)/|^worker\\.ts$' },
    },
    {
      name: 'use-cases-not-to-entry-points',
      severity: 'error',
      comment:
        'A use case (use-cases/) is called by routes, activities and the worker; it never imports them (practica: the entry points ' +
        'depend on the domain tier, not the other way).',
      from: { path: '^use-cases/' },
      to: { path: '^(activities|api|scripts)/|^worker\\.ts$' },
    },
    {
      name: 'routes-not-to-activities',
      severity: 'error',
      comment:
        'The API never imports an activity: what a route and an activity share is a use case (use-cases/) or a data/ module.',
      from: { path: '^api/' },
      to: { path: '^activities/' },
    },
    {
      name: 'activities-not-to-api',
      severity: 'error',
      comment: 'Activities never import the API: what they share is a use case (use-cases/) or a data/ module.',
      from: { path: '^activities/' },
      to: { path: '^api/' },
    },
    {
      name: 'no-route-to-route',
      severity: 'error',
      comment:
        'A route folder (api/routes/<resource>/) imports no other route folder: what two routes share lives below them ' +
        '(use-cases/, or api/ itself for HTTP pieces such as api/rejection.ts and api/schemas.ts).',
      from: { path: '^api/routes/([^/]+)/' },
      to: { path: '^api/routes/', pathNot: '^api/routes/$1/' },
    },
    {
      name: 'prisma-client-only-in-data',
      severity: 'error',
      comment:
        'One owner per table: the generated Prisma client is imported by data/ (and prisma/: migrations, roles, seed) only. ' +
        'Tests, the bench and the chaos suite check the database from outside and may read it directly. ESLint refuses queries ' +
        '($queryRaw, tx.<model>.findMany, ...) the same way (eslint.config.mjs, dataAccess).',
      from: { pathNot: '^(data|prisma|test|bench|chaos)/' },
      to: { path: '^generated/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing: a typo, or a package missing from package.json.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-non-package-json',
      severity: 'error',
      comment:
        "Every package imported is declared in package.json (not reached through another package's dependencies).",
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'production-not-to-dev-deps',
      severity: 'error',
      comment:
        'Code that runs in production does not import devDependencies: the image installs with --omit=dev (it also runs the migrations, the seed and the keys and reconcile commands).',
      from: {
        path: '^(activities|api|config|data|domain|platform|use-cases|workflows)/|^worker\\.ts$|^prisma/(migrate|roles|seed)\\.ts$|^scripts/(keys|reconcile)\\.ts$',
      },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    // node_modules may be a symlink (a git worktree sharing one install): keep its paths as node_modules/...
    preserveSymlinks: true,
    doNotFollow: { path: ['node_modules', '^generated/'] },
    exclude: { path: '(^|/)(dist|\\.tools|\\.data|coverage)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    combinedDependencies: false,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
