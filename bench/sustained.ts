/**
 * Sustained winners (issue 21 item 3): plain `POST /orders` on one level stocked for every
 * attempt, at the bench's concurrency, so every answer is a hold and every hold starts a saga
 * (the shape of a pre-launch stream of shoppers, not a sell-out). Every winner is paid by the
 * payment provider as soon as it answers, so the signed payment webhook is measured under the
 * same load (`webhookP99Ms`: the payments sent while the orders still ran), with Temporal busy
 * starting the sagas. The API's CPU time over the phase gives its cost per request.
 */
import type { BenchOptions } from './options';
import { percentiles, round, runLoad, type LoadResult, type Sample } from './load';
import { cpuSeconds } from './profile';
import { PaymentProvider, plainOrder } from './scenario';
import type { BenchStack } from './stack';

/** The sustained phase's level and order-id prefix. */
export const SUSTAINED_SKU = 'SUSTAINED';
export const SUSTAINED_PREFIX = 's-';

export interface SustainedResult {
  readonly load: LoadResult;
  /** Payment answers, outcome `pay <status>`. */
  readonly payments: Sample[];
  readonly winners: string[];
  readonly paid: string[];
  /** When the last order was answered (epoch ms): payments sent before it were under the orders' load. */
  readonly ordersEndedAt: number;
  /** API CPU seconds from the first order to the last payment's answer. */
  readonly apiCpuSeconds: number;
}

export async function runSustained(
  stack: BenchStack,
  o: BenchOptions,
  say: (line: string) => void,
  /** The order ids' prefix (scripts/profile-winners.ts warms up with its own). */
  prefix = SUSTAINED_PREFIX,
): Promise<SustainedResult> {
  say(
    `sustained winners: ${o.sustainedAttempts} plain orders on a level stocked for all, concurrency ${o.concurrency}, every winner paid (${o.payConcurrency} in flight)`,
  );
  const provider = new PaymentProvider(stack, o.payConcurrency);
  const winners: string[] = [];
  const orderId = (i: number) => `${prefix}${i}`;
  const cpuBefore = cpuSeconds(stack.pids.api);
  const load = await runLoad({
    base: stack.base,
    headers: stack.auth,
    total: o.sustainedAttempts,
    concurrency: o.concurrency,
    request: (i) => plainOrder(orderId(i), prefix === SUSTAINED_PREFIX ? `su-${i}` : `su-${prefix}${i}`, SUSTAINED_SKU),
    onAnswer: (i, status) => {
      if (status !== 201) return;
      winners.push(orderId(i));
      provider.pay(orderId(i));
    },
    progress: (done, total, s) => say(`sustained winners: ${done}/${total} (${Math.round(done / s)}/s)`),
  });
  const ordersEndedAt = Math.max(...load.samples.map((s) => s.answeredAt));
  await provider.close();
  return {
    load,
    payments: provider.samples,
    winners,
    paid: provider.paid,
    ordersEndedAt,
    apiCpuSeconds: cpuSeconds(stack.pids.api) - cpuBefore,
  };
}

/** The phase's figures: holds/s over the stream, winner p99, the webhook under the load. */
export function sustainedFigures(r: SustainedResult) {
  const wins = r.load.samples.filter((s) => s.outcome === '201');
  const first = Math.min(...r.load.samples.map((s) => s.sentAt));
  const lastWin = Math.max(0, ...wins.map((s) => s.answeredAt));
  const underLoad = r.payments.filter((s) => s.sentAt <= r.ordersEndedAt);
  return {
    holdsPerSecond: wins.length && lastWin > first ? round(wins.length / ((lastWin - first) / 1000)) : 0,
    winnerP99Ms: percentiles(wins.map((s) => s.ms)).p99,
    webhookP99Ms: percentiles(underLoad.map((s) => s.ms)).p99,
    webhooksUnderLoad: underLoad.length,
    webhookNon2xx: r.payments.filter((s) => !/^pay 2/.test(s.outcome)).length,
    requestsAnswered: r.load.samples.length + r.payments.length,
  };
}
