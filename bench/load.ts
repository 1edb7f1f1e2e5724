/**
 * A closed-loop HTTP load generator: `concurrency` loops, each sending its next request as
 * soon as the previous one answers, with per-outcome latency and wall-clock times kept for
 * percentiles and for "when did the last unit go".
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

/** One answer: its outcome, latency, and when it was sent and answered (epoch ms). */
export interface Sample {
  readonly outcome: string;
  readonly ms: number;
  readonly sentAt: number;
  readonly answeredAt: number;
  /** For a 5xx, the body's message: which 503 it was. */
  readonly message?: string;
}

export interface LoadResult {
  readonly samples: Sample[];
  readonly seconds: number;
}

/** What one request is. */
export interface RequestSpec {
  readonly path: string;
  readonly method: 'GET' | 'POST';
  readonly body?: string;
  readonly headers?: Record<string, string>;
}

/** Wall-clock now in epoch ms, with sub-millisecond resolution (same clock as PostgreSQL's now()). */
export const wallNow = () => performance.timeOrigin + performance.now();

/** Sends one request on `pool` and classifies its answer. */
export async function send(pool: Pool, spec: RequestSpec): Promise<{ sample: Sample; status: number; body: string }> {
  const sentAt = wallNow();
  const res = await pool.request({
    path: spec.path,
    method: spec.method,
    body: spec.body,
    headers: { 'content-type': 'application/json', ...spec.headers },
  });
  const body = await res.body.text();
  const answeredAt = wallNow();
  const message = res.statusCode >= 500 ? messageOf(body) : undefined;
  return {
    sample: {
      outcome: outcomeOf(res.statusCode, body),
      ms: answeredAt - sentAt,
      sentAt,
      answeredAt,
      ...(message ? { message } : {}),
    },
    status: res.statusCode,
    body,
  };
}

export async function runLoad(options: {
  readonly base: string;
  /** Sent with every request (the caller's API key). */
  readonly headers?: Record<string, string>;
  readonly total: number;
  readonly concurrency: number;
  readonly request: (i: number) => RequestSpec;
  /** Called with each answer (e.g. to have a won order paid); must not block the loop for long. */
  readonly onAnswer?: (i: number, status: number, body: string) => void;
  readonly progress?: (done: number, total: number, elapsedSeconds: number) => void;
}): Promise<LoadResult> {
  const pool = new Pool(options.base, { connections: options.concurrency, pipelining: 1, keepAliveTimeout: 30_000 });
  const samples: Sample[] = [];
  let next = 0;
  const started = performance.now();
  const ticker = options.progress
    ? setInterval(() => options.progress!(samples.length, options.total, (performance.now() - started) / 1000), 1000)
    : undefined;
  const loop = async () => {
    for (let i = next++; i < options.total; i = next++) {
      const spec = options.request(i);
      const { sample, status, body } = await send(
        pool,
        options.headers ? { ...spec, headers: { ...options.headers, ...spec.headers } } : spec,
      );
      samples.push(sample);
      options.onAnswer?.(i, status, body);
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, loop));
  } finally {
    if (ticker) clearInterval(ticker);
    await pool.close();
  }
  return { samples, seconds: (performance.now() - started) / 1000 };
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

function messageOf(body: string): string {
  try {
    return String((JSON.parse(body) as { message?: string }).message ?? body).slice(0, 160);
  } catch {
    return body.slice(0, 160);
  }
}

/** How many answers carried each 5xx message. */
export function serverErrors(samples: Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples)
    if (s.message) out[`${s.outcome}: ${s.message}`] = (out[`${s.outcome}: ${s.message}`] ?? 0) + 1;
  return out;
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

/**
 * How fast a pool of `units` was held: from the first winning request's send (its admission
 * follows within the request) to the answer that took the `units`-th unit (or the last win).
 * Holds that came back later (expired holds re-won) are not part of the sell-out.
 */
export function sellOut(
  samples: Sample[],
  units: number,
): { holds: number; firstAdmission: number; soldOutAt: number; seconds: number } | undefined {
  const wins = samples
    .filter((s) => s.outcome === '201')
    .sort((a, b) => a.answeredAt - b.answeredAt)
    .slice(0, units);
  if (wins.length === 0) return undefined;
  const firstAdmission = Math.min(...wins.map((w) => w.sentAt));
  const soldOutAt = wins[wins.length - 1].answeredAt;
  return { holds: wins.length, firstAdmission, soldOutAt, seconds: (soldOutAt - firstAdmission) / 1000 };
}

export const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
