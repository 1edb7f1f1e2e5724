/**
 * A closed-loop HTTP load generator: `concurrency` loops, each sending its next request as
 * soon as the previous one answers, with per-outcome latency kept for percentiles.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface Sample {
  readonly outcome: string;
  readonly ms: number;
}

export interface LoadResult {
  readonly samples: Sample[];
  readonly seconds: number;
}

/** What one request is; `classify` names its outcome (e.g. "201", "409 SOLD_OUT"). */
export interface RequestSpec {
  readonly path: string;
  readonly method: 'GET' | 'POST';
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

export async function runLoad(options: {
  readonly base: string;
  readonly total: number;
  readonly concurrency: number;
  readonly request: (i: number) => RequestSpec;
  /** Called with each answer; may send follow-up requests (e.g. pay for a won order). */
  readonly onAnswer?: (i: number, status: number, body: string, pool: Pool) => Promise<Sample | undefined>;
  readonly progress?: (done: number, total: number, elapsedSeconds: number) => void;
}): Promise<LoadResult> {
  const pool = new Pool(options.base, { connections: options.concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const samples: Sample[] = [];
  let next = 0;
  let done = 0;
  const started = performance.now();
  const ticker = options.progress ? setInterval(() => options.progress!(done, options.total, (performance.now() - started) / 1000), 1000) : undefined;
  const loop = async () => {
    for (let i = next++; i < options.total; i = next++) {
      const spec = options.request(i);
      const t0 = performance.now();
      const res = await pool.request({ path: spec.path, method: spec.method, body: spec.body, headers: { 'content-type': 'application/json', ...spec.headers } });
      const text = await res.body.text();
      samples.push({ outcome: outcomeOf(res.statusCode, text), ms: performance.now() - t0 });
      const extra = await options.onAnswer?.(i, res.statusCode, text, pool);
      if (extra) samples.push(extra);
      done += 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  const seconds = (performance.now() - started) / 1000;
  if (ticker) clearInterval(ticker);
  await pool.close();
  return { samples, seconds };
}

/** "201", or "409 SOLD_OUT": the status and, for errors, the body's code. */
export function outcomeOf(status: number, body: string): string {
  if (status < 300) return String(status);
  try {
    return `${status} ${(JSON.parse(body) as { code?: string }).code ?? ''}`.trim();
  } catch {
    return String(status);
  }
}

export interface Percentiles {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
}

export function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : 0);
  return { count: sorted.length, p50: round(at(0.5)), p95: round(at(0.95)), p99: round(at(0.99)) };
}

export function byOutcome(samples: Sample[]): Record<string, Percentiles> {
  const groups = new Map<string, number[]>();
  for (const s of samples) {
    const group = groups.get(s.outcome);
    if (group) group.push(s.ms);
    else groups.set(s.outcome, [s.ms]);
  }
  return Object.fromEntries([...groups].map(([k, v]) => [k, percentiles(v)]));
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
