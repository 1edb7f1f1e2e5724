/**
 * `npm run build`: the production build in dist/, run by plain `node` (no tsx at run time).
 *
 *  1. dist/ is emptied (a file that moved or was deleted in the sources leaves nothing behind);
 *  2. `tsc -p tsconfig.build.json` compiles the service's code (not test/, bench/, chaos/);
 *  3. the files the code reads by path next to itself are copied beside the compiled code:
 *     every *.lua script and every file in an `assets/` folder (the console's CSS and script)
 *     under the compiled source folders (wherever it lives, so moving a folder needs no change
 *     here), prisma/migrations and prisma/functions (prisma/migrate.ts
 *     reads them) and prisma/mysql (prisma/mysql-migrate.ts);
 *  4. the Temporal workflow bundle is built from the compiled workflows into
 *     dist/workflow-bundle.js; dist/worker.js loads it instead of bundling at every start.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

const ROOT = path.resolve(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
/** Folders never searched for run-time assets. */
const SKIP = new Set([
  'node_modules',
  'dist',
  'generated',
  'test',
  'bench',
  'chaos',
  'docs',
  'deploy',
  '.git',
  '.tools',
  '.data',
]);
/** Assets read by path at run time, by extension. */
const ASSET = /\.lua$/;
/** Folders whose every file is read by path at run time (the console's CSS and script). */
const ASSET_FOLDER = 'assets';
/** Loaded by dist/worker.js (worker.ts `workflowCode`). */
const WORKFLOW_BUNDLE = 'workflow-bundle.js';

function step(message: string): void {
  console.log(`[build] ${message}`);
}

/** Every asset file under `dir`, as paths relative to ROOT. */
function findAssets(dir: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIP.has(entry.name)) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...findAssets(full));
    else if (ASSET.test(entry.name) || path.basename(dir) === ASSET_FOLDER) found.push(path.relative(ROOT, full));
  }
  return found;
}

export function copyAssets(): string[] {
  const assets = findAssets(ROOT);
  for (const file of assets) {
    mkdirSync(path.dirname(path.join(DIST, file)), { recursive: true });
    copyFileSync(path.join(ROOT, file), path.join(DIST, file));
  }
  cpSync(path.join(ROOT, 'prisma', 'migrations'), path.join(DIST, 'prisma', 'migrations'), { recursive: true });
  cpSync(path.join(ROOT, 'prisma', 'functions'), path.join(DIST, 'prisma', 'functions'), { recursive: true });
  // The MySQL/MariaDB steps and procedures (prisma/mysql-migrate.ts reads them; issue 22).
  cpSync(path.join(ROOT, 'prisma', 'mysql'), path.join(DIST, 'prisma', 'mysql'), { recursive: true });
  return assets;
}

async function main(): Promise<void> {
  step('cleaning dist/');
  rmSync(DIST, { recursive: true, force: true });

  step('compiling (tsc -p tsconfig.build.json)');
  const tsc = spawnSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')],
    {
      stdio: 'inherit',
      cwd: ROOT,
    },
  );
  if (tsc.status !== 0) throw new Error(`tsc failed (exit ${tsc.status})`);

  const assets = copyAssets();
  step(`copied ${assets.length} Lua scripts, prisma/migrations, prisma/functions and prisma/mysql`);

  const workflowsPath = path.join(DIST, 'workflows', 'index.js');
  if (!existsSync(workflowsPath)) throw new Error(`${workflowsPath} missing after tsc`);
  step('bundling the workflows');
  const quiet = { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} };
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quiet as never });
  writeFileSync(path.join(DIST, WORKFLOW_BUNDLE), code);
  step(`dist/${WORKFLOW_BUNDLE}: ${(code.length / 1024).toFixed(0)} KiB`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error('[build] failed:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
