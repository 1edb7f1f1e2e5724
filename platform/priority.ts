/**
 * CPU priority of the closing side on a shared host. `npm start` and the benchmark run the
 * API, the worker and the Temporal dev server on one machine; under a burst they compete
 * for the same cores. The request path (API, PostgreSQL, Redis) answers the shopper; the
 * worker and Temporal only close sagas, which is asynchronous by design. Giving the closing
 * side a higher nice value lets a burst's answers come first while closing still gets every
 * cycle the request path leaves idle. On real deployments they run on their own hosts.
 */
import { readdirSync } from 'node:fs';
import os from 'node:os';

/** Default nice value of the worker and the dev server under `npm start` and the bench (0: same as the API). */
export const DEFAULT_CLOSING_NICE = 10;

/**
 * Lowers a running child's CPU priority; best effort (a platform that refuses keeps it as it
 * is). Linux keeps a nice value per thread, so every thread the child already has is set;
 * threads it creates later inherit it from their creator.
 */
export function lowerPriority(pid: number | undefined, nice: number): void {
  if (pid === undefined || nice <= 0) return;
  let threads: number[] = [pid];
  try {
    threads = readdirSync(`/proc/${pid}/task`).map(Number);
  } catch {
    // No /proc: the process's own priority is all that can be set.
  }
  for (const tid of threads) {
    try {
      os.setPriority(tid, Math.min(19, nice));
    } catch {
      // Not permitted, or the thread ended: it keeps sharing the CPU evenly.
    }
  }
}

/** CLOSING_NICE from the environment (0..19), or the default. */
export function closingNice(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CLOSING_NICE;
  if (raw === undefined || raw.trim() === '') return DEFAULT_CLOSING_NICE;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 19) throw new Error(`CLOSING_NICE must be an integer 0..19, got "${raw}"`);
  return n;
}
