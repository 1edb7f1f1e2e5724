/**
 * Ceilings measured in the same run on the same machine, so the service's figures can be
 * read as ratios: how close to the framework, to Temporal and to PostgreSQL it gets.
 */
import { performance } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import { Pool as PgPool } from 'pg';
import { freePort, runService, waitForHttp } from '../platform/processes';
import { runLoad } from './load';

/** Requests/s of a no-op Fastify route, driven by the same load generator. */
export async function httpCeiling(requests: number, concurrency: number): Promise<{ rps: number; p99: number }> {
  const port = await freePort();
  const server = runService('bench/noop-server.ts', {}, [String(port)]);
  try {
    await waitForHttp(`http://127.0.0.1:${port}/noop`, 30_000, 'POST');
    // Warm up (JIT, connections) as the API is by the time its reject path is measured.
    await runLoad({ base: `http://127.0.0.1:${port}`, total: Math.min(requests, 5000), concurrency, request: () => ({ path: '/noop', method: 'POST', body: '{}' }) });
    const result = await runLoad({ base: `http://127.0.0.1:${port}`, total: requests, concurrency, request: () => ({ path: '/noop', method: 'POST', body: '{}' }) });
    const sorted = result.samples.map((s) => s.ms).sort((a, b) => a - b);
    return { rps: requests / result.seconds, p99: sorted[Math.floor(sorted.length * 0.99)] };
  } finally {
    await server.stop();
  }
}

/** Workflows/s of a no-op workflow started and awaited by `concurrency` loops. */
export async function workflowCeiling(client: Client, address: string, count: number, concurrency: number): Promise<number> {
  const worker = runService('bench/noop-worker.ts', {}, [address]);
  try {
    await waitForOutput(worker.output, 'noop worker ready');
    let next = 0;
    const started = performance.now();
    const loop = async () => {
      for (let i = next++; i < count; i = next++) {
        await client.workflow.execute('noopWorkflow', { taskQueue: 'bench-noop', workflowId: `noop-${Date.now()}-${i}` });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    return count / ((performance.now() - started) / 1000);
  } finally {
    await worker.stop();
  }
}

/**
 * Conditional UPDATEs/s on one hot row through node-postgres, autocommit, `connections`
 * clients. On a scratch table shaped like inventory_levels, so the service's ledger and
 * invariants are not disturbed by writes that bypass them.
 */
export async function hotRowCeiling(databaseUrl: string, seconds: number, connections: number): Promise<number> {
  const pool = new PgPool({ connectionString: databaseUrl, max: connections });
  await pool.query('CREATE TABLE IF NOT EXISTS bench_hot_row (sku text PRIMARY KEY, on_hand int NOT NULL, reserved int NOT NULL, CHECK (reserved <= on_hand))');
  await pool.query(`INSERT INTO bench_hot_row VALUES ('HOT', 100000000, 0) ON CONFLICT (sku) DO UPDATE SET reserved = 0`);
  const sku = 'HOT';
  let ops = 0;
  const deadline = performance.now() + seconds * 1000;
  const loop = async () => {
    while (performance.now() < deadline) {
      await pool.query('UPDATE bench_hot_row SET reserved = reserved + 1 WHERE sku = $1 AND on_hand - reserved >= 1', [sku]);
      ops += 1;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, loop));
  const rate = ops / ((performance.now() - started) / 1000);
  await pool.end();
  return rate;
}

async function waitForOutput(output: () => string, marker: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!output().includes(marker)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for "${marker}"; output:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
