/**
 * Ceilings measured in the same run on the same machine, so the service's figures can be
 * read as ratios: how close to the framework, to Temporal and to PostgreSQL it gets.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type { Client } from '@temporalio/client';
import { Pool as PgPool } from 'pg';
import { freePort, runService, waitForHttp } from '../platform/processes';
import { lowerPriority } from '../platform/priority';
import { percentiles, runLoad } from './load';
import { cpuSeconds } from './profile';

/**
 * Requests/s and p99 of a no-op Fastify route, same load generator, same concurrency; and the
 * server's CPU per request (µs), to set beside the API's on the reject path.
 */
export async function httpCeiling(
  requests: number,
  concurrency: number,
  /** Where to run the server (the production layout pins it beside the API). */
  place?: (pid: number) => void,
): Promise<{ rps: number; p99: number; cpuMicrosPerRequest: number }> {
  const port = await freePort();
  const server = runService('bench/noop-server.ts', {}, [String(port)]);
  place?.(server.child.pid!);
  try {
    await waitForHttp(`http://127.0.0.1:${port}/noop`, 30_000, 'POST');
    const run = (total: number) =>
      runLoad({
        base: `http://127.0.0.1:${port}`,
        total,
        concurrency,
        request: () => ({ path: '/noop', method: 'POST', body: '{}' }),
      });
    // Warm up (JIT, connections) as the API is by the time it is measured.
    await run(Math.min(requests, 5000));
    const cpuBefore = cpuSeconds(server.child.pid!);
    const result = await run(requests);
    const cpuMicrosPerRequest = ((cpuSeconds(server.child.pid!) - cpuBefore) * 1e6) / requests;
    return {
      rps: requests / result.seconds,
      p99: percentiles(result.samples.map((s) => s.ms)).p99,
      cpuMicrosPerRequest,
    };
  } finally {
    await server.stop();
  }
}

/**
 * No-op workflows started and awaited to completion per second (start → completed, as
 * `client.workflow.execute`), `concurrency` loops, on the dev server the sagas use, by a
 * worker process of its own with the same connection settings.
 */
export async function workflowCeiling(
  client: Client,
  address: string,
  count: number,
  concurrency: number,
  nice = 0,
): Promise<number> {
  const worker = runService('bench/noop-worker.ts', {}, [address]);
  lowerPriority(worker.child.pid, nice); // as the real worker, so the ratio compares like with like
  try {
    await waitForOutput(worker.output, 'noop worker ready');
    let next = 0;
    const run = async (total: number, prefix: string) => {
      const loop = async () => {
        for (let i = next++; i < total; i = next++)
          await client.workflow.execute('noopWorkflow', { taskQueue: 'bench-noop', workflowId: `${prefix}-${i}` });
      };
      await Promise.all(Array.from({ length: concurrency }, loop));
    };
    await run(Math.min(100, count), 'noop-warm');
    next = 0;
    const started = performance.now();
    await run(count, 'noop');
    return count / ((performance.now() - started) / 1000);
  } finally {
    await worker.stop();
  }
}

/**
 * The raw hot-row ceiling, the Node analogue of the shared anchor r0
 * (`UPDATE campaigns SET remaining = remaining - 1 WHERE id = 'C' AND remaining >= 1`, pgbench
 * `-M prepared -c 10`): that one statement, prepared, autocommit, on a one-row table shaped
 * like the anchor's `campaigns`, from `connections` node-postgres clients (the driver under
 * Prisma's adapter; as many as the API's pool), each sending its next as soon as one answers.
 * A scratch table, so writes that bypass the ledger disturb none of the service's invariants.
 */
const HOT_ROW_TABLE = `CREATE TABLE IF NOT EXISTS bench_hot_pool (id text PRIMARY KEY, remaining int NOT NULL, per_user_limit int NOT NULL,
  status text NOT NULL DEFAULT 'OPEN', starts_at timestamptz NOT NULL DEFAULT now() - interval '1 hour', ends_at timestamptz NOT NULL DEFAULT now() + interval '1 day')`;
const HOT_ROW_UPDATE = `UPDATE bench_hot_pool SET remaining = remaining - 1 WHERE id = 'C' AND remaining >= 1`;

async function resetHotRow(databaseUrl: string): Promise<void> {
  const pool = new PgPool({ connectionString: databaseUrl, max: 1 });
  await pool.query(HOT_ROW_TABLE);
  await pool.query(
    `INSERT INTO bench_hot_pool (id, remaining, per_user_limit) VALUES ('C', 1000000000, 1000000) ON CONFLICT (id) DO UPDATE SET remaining = 1000000000`,
  );
  await pool.end();
}

export async function hotRowCeiling(databaseUrl: string, seconds: number, connections: number): Promise<number> {
  await resetHotRow(databaseUrl);
  const pool = new PgPool({ connectionString: databaseUrl, max: connections });
  const update = () => pool.query({ name: 'bench-hot-row', text: HOT_ROW_UPDATE });
  try {
    // Every connection open and the statement prepared on each before the clock starts (as pgbench).
    await Promise.all(Array.from({ length: connections * 4 }, update));
    let ops = 0;
    const deadline = performance.now() + seconds * 1000;
    const loop = async () => {
      while (performance.now() < deadline) {
        await update();
        ops += 1;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: connections }, loop));
    return ops / ((performance.now() - started) / 1000);
  } finally {
    await pool.end();
  }
}

/**
 * The same statement through pgbench (C, libpq, `-M prepared`, `-j 2`), when pgbench is
 * installed: printed beside the Node figure to show what the driver costs; never a target.
 */
export async function pgbenchAnchor(
  databaseUrl: string,
  seconds: number,
  connections: number,
): Promise<number | undefined> {
  const url = new URL(databaseUrl);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'stockhold-anchor-'));
  try {
    await resetHotRow(databaseUrl);
    writeFileSync(path.join(dir, 'r0.sql'), `${HOT_ROW_UPDATE};\n`);
    const args = [
      '-h',
      url.hostname,
      '-p',
      url.port || '5432',
      '-U',
      decodeURIComponent(url.username || 'postgres'),
      '-n',
      '-M',
      'prepared',
      '-c',
      String(connections),
      '-j',
      '2',
      '-T',
      String(seconds),
      '-f',
      path.join(dir, 'r0.sql'),
      decodeURIComponent(url.pathname.slice(1)),
    ];
    const env = { ...process.env, ...(url.password ? { PGPASSWORD: decodeURIComponent(url.password) } : {}) };
    const { stdout } = await promisify(execFile)('pgbench', args, { env, timeout: (seconds + 30) * 1000 });
    const tps = /tps = ([\d.]+)/.exec(stdout);
    return tps ? Number(tps[1]) : undefined;
  } catch {
    return undefined; // not installed, or not allowed: the anchor is optional
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function waitForOutput(output: () => string, marker: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!output().includes(marker)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for "${marker}"; output:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
