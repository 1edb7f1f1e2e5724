/**
 * `npm run histories:capture [-- --tag <tag>] [-- --only <scenario,…>]`: runs every scenario
 * of scripts/histories/scenarios.ts on real services (a Temporal dev server, the real worker
 * and API, PostgreSQL and Redis) and writes each closed run's history to
 * test/workflows/histories/<name>.<tag>.json, which test/workflows/replay.test.ts replays
 * against the current workflow code. The tag defaults to today's date (UTC, YYYYMMDD).
 *
 * Re-runnable: the scratch database is recreated and the dev server is fresh on every run.
 * Files of other tags are never touched — older captures are what prove that runs started by
 * older code still replay (CONTRIBUTING.md "Changing workflow code").
 *
 * Uses TEST_DATABASE_URL (default: database `stockhold_histories_test`, recreated) and
 * TEST_REDIS_URL (default: Redis index 12, flushed) like the test suite.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

process.env.TEST_DATABASE_URL ??= 'postgresql://postgres@127.0.0.1:5432/stockhold_histories_test';
process.env.TEST_REDIS_URL ??= 'redis://127.0.0.1:6379/12';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { tag: { type: 'string' }, only: { type: 'string' } } });
  const tag = values.tag ?? new Date().toISOString().slice(0, 10).replace(/-/g, '');
  if (!/^[\w-]+$/.test(tag)) throw new Error(`--tag must be letters, digits, _ or -: ${tag}`);
  const only = values.only?.split(',').map((s) => s.trim());

  // Loaded after the defaults above: the test helpers read the settings when imported.
  const { recreateDatabase } = await import('../prisma/migrate');
  const { TEST_DATABASE_URL } = await import('../test/helpers/env');
  const { testApp } = await import('../test/helpers/app');
  const { testDb } = await import('../test/helpers/db');
  const { devServerEnv, startWorker } = await import('../test/helpers/temporal');
  const { HISTORIES_DIR, historyFileName, historyFileText } = await import('../test/helpers/histories');
  const { scenarios, ADMIN_TOKEN, WEBHOOK_SECRET } = await import('./histories/scenarios');
  const workflowTypes = Object.entries(await import('../workflows'))
    .filter(([k, v]) => k !== 'default' && typeof v === 'function')
    .map(([k]) => k);

  const chosen = only ? scenarios.filter((s) => only.includes(s.name)) : scenarios;
  const unknown = only?.filter((name) => !scenarios.some((s) => s.name === name)) ?? [];
  if (unknown.length > 0)
    throw new Error(`unknown scenario(s): ${unknown.join(', ')}; known: ${scenarios.map((s) => s.name).join(', ')}`);

  const taskQueue = 'capture-histories';
  await recreateDatabase(TEST_DATABASE_URL);
  const db = testDb();
  const env = await devServerEnv();
  const worker = await startWorker(env, db, taskQueue);
  const settings = { TEMPORAL_TASK_QUEUE: taskQueue, WEBHOOK_SECRET, ADMIN_TOKEN, CAMPAIGN_GATE_CHECK_SECONDS: '2' };
  const { app } = await testApp(env, db, settings);
  const { app: fastApp } = await testApp(env, db, { ...settings, RESERVATION_TTL_SECONDS: '1' });
  const covered = new Set<string>();
  try {
    // Gate keys outlive a run (they carry their own TTL): start from an empty Redis index.
    await app.deps.redis.flushdb();
    mkdirSync(HISTORIES_DIR, { recursive: true });
    for (const scenario of chosen) {
      const recorded = await scenario.run({ env, db, taskQueue, app, fastApp });
      for (const { name, workflowId } of recorded) {
        const handle = env.client.workflow.getHandle(workflowId);
        // An order's saga starts just after its hold commits: wait until Temporal has it.
        await withTimeout(untilStarted(handle), 30_000, `${name}: ${workflowId} never started`);
        await withTimeout(handle.result(), 60_000, `${name}: ${workflowId} did not close`);
        const history = await handle.fetchHistory();
        const type = history.events?.[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '?';
        covered.add(type);
        const file = path.join(HISTORIES_DIR, historyFileName(name, tag));
        writeFileSync(file, historyFileText(history));
        console.log(`[capture] ${path.relative(process.cwd(), file)}  ${type}, ${history.events?.length ?? 0} events`);
      }
    }
  } finally {
    await app.close();
    await fastApp.close();
    await worker.stop();
    await env.teardown();
    await db.$disconnect();
  }
  const missing = workflowTypes.filter((t) => !covered.has(t));
  if (!only && missing.length > 0)
    throw new Error(`no scenario records ${missing.join(', ')}: add one to scripts/histories/scenarios.ts`);
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

main().catch((err) => {
  console.error('[capture] failed:', err);
  process.exit(1);
});

async function untilStarted(handle: { describe(): Promise<unknown> }): Promise<void> {
  for (;;) {
    if (
      await handle.describe().then(
        () => true,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
}
