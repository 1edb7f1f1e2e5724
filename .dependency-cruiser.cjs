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
      comment: 'No import cycles, type-only imports included: break them by moving the shared piece down (domain/) or by passing a dependency in.',
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
      comment: "Every package imported is declared in package.json (not reached through another package's dependencies).",
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'production-not-to-dev-deps',
      severity: 'error',
      comment:
        'Code that runs in production does not import devDependencies: the image installs with --omit=dev (it also runs the migrations, the seed and the keys and reconcile commands).',
      from: {
        path: '^(activities|api|config|data|domain|platform|workflows)/|^worker\\.ts$|^prisma/(migrate|roles|seed)\\.ts$|^scripts/(keys|reconcile)\\.ts$',
      },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
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
