/**
 * The flash-sale scenario over HTTP: N attempts from M shoppers on one SKU, winners paying
 * through the signed webhook (a share of them), the rest left to expire; then the pure
 * reject path after sell-out while those sagas settle; the wait until every saga has ended;
 * and the reject path once more with nothing else running.
 */
import { performance } from 'node:perf_hooks';
import type { Pool } from 'undici';
import { signPayload } from '../api/routes/webhooks/signature';
import type { Db } from '../activities/store/db';
import type { BenchOptions } from './options';
import { outcomeOf, runLoad, type LoadResult, type Sample } from './load';
import type { BenchStack } from './stack';

export const CAMPAIGN = 'bench-flash';
/** A campaign sold out before the run (its one unit paid for), for the quiet reject path. */
export const SOLD_OUT_CAMPAIGN = 'bench-sold-out';

export interface ScenarioResult {
  readonly attack: LoadResult;
  /** Attempts after sell-out while the sale's sagas are still settling. */
  readonly rejects: LoadResult;
  /** The same on a sold-out campaign with nothing else running. */
  readonly quietRejects: LoadResult;
  readonly winners: number;
  readonly paid: number;
  readonly sagasSeconds: number;
  readonly settleSeconds: number;
}

/** Deterministic "does winner i pay?" so a run can be repeated. */
const pays = (i: number, share: number) => ((i * 2654435761) % 1000) / 1000 < share;

export async function runFlashSale(stack: BenchStack, db: Db, o: BenchOptions, say: (line: string) => void): Promise<ScenarioResult> {
  let winners = 0;
  let paid = 0;
  const pay = async (i: number, pool: Pool): Promise<Sample> => {
    const body = JSON.stringify({ eventId: `ev-b-${i}`, type: 'payment.succeeded', orderId: `b-${i}`, paymentId: `pay-b-${i}`, amountCents: 999 });
    const ts = Math.floor(Date.now() / 1000);
    const t0 = performance.now();
    const res = await pool.request({
      path: '/webhooks/payments',
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json', 'x-signature-timestamp': String(ts), 'x-signature': signPayload(stack.webhookSecret, ts, body) },
    });
    const text = await res.body.text();
    if (res.statusCode === 200) paid += 1;
    return { outcome: `pay ${outcomeOf(res.statusCode, text)}`, ms: performance.now() - t0 };
  };
  const order = (prefix: string) => (i: number) => ({
    path: `/campaigns/${CAMPAIGN}/orders`,
    method: 'POST' as const,
    body: JSON.stringify({ orderId: `${prefix}-${i}`, userId: `u-${i % o.users}`, quantity: 1 }),
  });
  const progress = (label: string) => (done: number, total: number, s: number) => say(`${label}: ${done}/${total} (${Math.round(done / s)}/s)`);

  say(`flash sale: ${o.attempts} attempts, ${o.users} shoppers, ${o.units} units, concurrency ${o.concurrency}`);
  const attackStart = new Date();
  const attack = await runLoad({
    base: stack.base,
    total: o.attempts,
    concurrency: o.concurrency,
    request: order('b'),
    onAnswer: async (i, status, _body, pool) => {
      if (status !== 201) return undefined;
      winners += 1;
      return pays(i, o.paidShare) ? pay(i, pool) : undefined;
    },
    progress: progress('attack'),
  });
  say(`reject path: ${o.rejectAttempts} attempts after sell-out`);
  const rejects = await runLoad({ base: stack.base, total: o.rejectAttempts, concurrency: o.concurrency, request: order('r'), progress: progress('rejects') });

  say(`waiting for ${winners} sagas to end (${paid} paid, the rest expire after ${o.ttlSeconds}s)`);
  const settleStart = performance.now();
  for (;;) {
    const open = await db.reservation.count({ where: { campaignId: CAMPAIGN, status: 'RESERVED' } });
    const running = await stack.client.workflow.count(`WorkflowType = 'orderWorkflow' AND ExecutionStatus = 'Running'`);
    if (open === 0 && running.count === 0) break;
    if (performance.now() - settleStart > (o.ttlSeconds + 120) * 1000) throw new Error(`sagas did not settle: ${open} holds, ${running.count} running workflows`);
    say(`settling: ${open} holds open, ${running.count} order workflows running`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  const lastConfirm = await db.reservation.aggregate({ where: { campaignId: CAMPAIGN, status: 'CONFIRMED' }, _max: { updatedAt: true } });
  const sagasSeconds = ((lastConfirm._max.updatedAt?.getTime() ?? attackStart.getTime()) - attackStart.getTime()) / 1000;
  const settleSeconds = (performance.now() - settleStart) / 1000;

  // The same reject path once nothing else runs: a sold-out campaign, no saga in flight.
  say(`quiet reject path: ${o.rejectAttempts} attempts on a sold-out sale with every saga settled`);
  const quietRejects = await runLoad({
    base: stack.base,
    total: o.rejectAttempts,
    concurrency: o.concurrency,
    request: (i) => ({ path: `/campaigns/${SOLD_OUT_CAMPAIGN}/orders`, method: 'POST' as const, body: JSON.stringify({ orderId: `q-${i}`, userId: `u-${i % o.users}`, quantity: 1 }) }),
    progress: progress('quiet rejects'),
  });
  return { attack, rejects, quietRejects, winners, paid, sagasSeconds, settleSeconds };
}
