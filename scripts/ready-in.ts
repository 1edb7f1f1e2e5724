/** The banner's "ready in" line of `npm start` (scripts/start.ts), honest about what it counts. */

/**
 * "ready in" counted from npm start's own start (NPM_START_AT_MS, set by scripts/start.sh),
 * with its parts: the bootstrap (BOOTSTRAP_DONE_AT_MS), migrations, seed and Temporal, and the
 * wait for the API and the worker (`servicesMs`). Run without start.sh: from this process's start.
 */
export function readyIn(servicesMs: number, env: NodeJS.ProcessEnv = process.env, now = Date.now()): string {
  const s = (ms: number) => `${(Math.max(0, ms) / 1000).toFixed(1)} s`;
  const npmStartAt = Number(env.NPM_START_AT_MS);
  const bootstrapDoneAt = Number(env.BOOTSTRAP_DONE_AT_MS);
  const startedAt = npmStartAt > 0 ? npmStartAt : now - process.uptime() * 1000;
  const setupStartedAt = npmStartAt > 0 && bootstrapDoneAt >= npmStartAt ? bootstrapDoneAt : startedAt;
  const parts = [
    ...(setupStartedAt > startedAt ? [`bootstrap ${s(setupStartedAt - startedAt)}`] : []),
    `migrations, seed and Temporal ${s(now - servicesMs - setupStartedAt)}`,
    `API and worker ${s(servicesMs)}`,
  ];
  return `ready in ${s(now - startedAt)} since ${npmStartAt > 0 ? 'npm start' : 'scripts/start.ts'} started (${parts.join(', ')})`;
}
