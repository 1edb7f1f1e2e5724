/**
 * The shoppers' side of the benchmark over HTTP: the flash sale (N attempts from M shoppers
 * on one campaign; a share of the winners paid through the signed webhook by the payment
 * provider, the rest left to expire), the wait until every saga has closed and every payment
 * is settled, the reject path on a sold-out campaign, and plain `POST /orders` on one hot level.
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { signPayload } from '../platform/webhook-signature';
import type { Db } from '../data/db';
import { mariadbOf } from '../data/mariadb/db';
import type { BenchOptions } from './options';
import { openWorkOnMariadb } from './mariadb-store';
import { runLoad, send, type LoadResult, type RequestSpec, type Sample } from './load';
import type { BenchStack } from './stack';

export const CAMPAIGN = 'bench-flash';
/** A campaign sold out before the run (its one unit paid for), for the pure reject path. */
export const SOLD_OUT_CAMPAIGN = 'bench-sold-out';
/** The plain scenario's hot level, and a level no order fits (warm-up refusals). */
export const PLAIN_SKU = 'PLAIN-HOT';
export const WARM_SKU = 'WARM-UP';
export const WAREHOUSE = 'W1';

/** Deterministic "does winner i pay?" so a run can be repeated. */
const pays = (i: number, share: number) => ((i * 2654435761) % 1000) / 1000 < share;

/**
 * The payment provider: webhook deliveries apart from the shoppers (a shopper's order answer
 * never waits for them), at most `concurrency` in flight, each as soon as it is queued.
 */
export class PaymentProvider {
  private readonly pool: Pool;
  private readonly queue: string[] = [];
  private inFlight = 0;
  private idle: (() => void) | undefined;
  readonly samples: Sample[] = [];
  readonly paid: string[] = [];

  constructor(
    private readonly stack: BenchStack,
    private readonly concurrency: number,
  ) {
    this.pool = new Pool(stack.base, { connections: concurrency, pipelining: 1 });
  }

  pay(orderId: string): void {
    this.queue.push(orderId);
    this.pump();
  }

  /** Waits until every queued payment has been answered. */
  async drain(): Promise<void> {
    if (this.inFlight > 0 || this.queue.length > 0) await new Promise<void>((r) => (this.idle = r));
  }

  async close(): Promise<void> {
    await this.drain();
    await this.pool.close();
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && this.queue.length > 0) {
      const orderId = this.queue.shift()!;
      this.inFlight += 1;
      void this.deliver(orderId).finally(() => {
        this.inFlight -= 1;
        this.pump();
        if (this.inFlight === 0 && this.queue.length === 0) this.idle?.();
      });
    }
  }

  private async deliver(orderId: string): Promise<void> {
    const body = JSON.stringify({
      eventId: `ev-${orderId}`,
      type: 'payment.succeeded',
      orderId,
      paymentId: `pay-${orderId}`,
      amountCents: 999,
    });
    const ts = Math.floor(Date.now() / 1000);
    const headers = {
      'x-signature-timestamp': String(ts),
      'x-signature': signPayload(this.stack.webhookSecret, ts, body),
    };
    const { sample, status } = await send(this.pool, { path: '/webhooks/payments', method: 'POST', body, headers });
    this.samples.push({ ...sample, outcome: `pay ${sample.outcome}` });
    if (status === 200) this.paid.push(orderId);
  }
}

/** What one ordering scenario produced. */
export interface SaleResult {
  readonly load: LoadResult;
  readonly payments: Sample[];
  /** Order ids that got 201, and those paid (200 from the webhook). */
  readonly winners: string[];
  readonly paid: string[];
}

const progress = (say: (line: string) => void, label: string) => (done: number, total: number, s: number) =>
  say(`${label}: ${done}/${total} (${Math.round(done / s)}/s)`);

/** Runs `total` orders at the bench's concurrency; a share of the winners is paid by the provider. */
async function runSale(
  stack: BenchStack,
  o: BenchOptions,
  label: string,
  total: number,
  request: (i: number) => RequestSpec,
  orderId: (i: number) => string,
  say: (line: string) => void,
): Promise<SaleResult> {
  const provider = new PaymentProvider(stack, o.payConcurrency);
  const winners: string[] = [];
  const load = await runLoad({
    base: stack.base,
    headers: stack.auth,
    total,
    concurrency: o.concurrency,
    request,
    onAnswer: (i, status) => {
      if (status !== 201) return;
      winners.push(orderId(i));
      if (pays(i, o.paidShare)) provider.pay(orderId(i));
    },
    progress: progress(say, label),
  });
  await provider.close();
  return { load, payments: provider.samples, winners, paid: provider.paid };
}

export function runFlashSale(stack: BenchStack, o: BenchOptions, say: (line: string) => void): Promise<SaleResult> {
  say(`flash sale: ${o.attempts} attempts, ${o.users} shoppers, ${o.units} units, concurrency ${o.concurrency}`);
  const body = (i: number) => JSON.stringify({ orderId: `b-${i}`, userId: `u-${i % o.users}`, quantity: 1 });
  return runSale(
    stack,
    o,
    'flash sale',
    o.attempts,
    (i) => ({ path: `/campaigns/${CAMPAIGN}/orders`, method: 'POST', body: body(i) }),
    (i) => `b-${i}`,
    say,
  );
}

/** Plain single-line orders in a named warehouse, all on one level with `plainUnits` in stock. */
export function runPlainOrders(stack: BenchStack, o: BenchOptions, say: (line: string) => void): Promise<SaleResult> {
  say(
    `plain orders: ${o.plainAttempts} attempts on one level with ${o.plainUnits} units, concurrency ${o.concurrency}`,
  );
  return runSale(
    stack,
    o,
    'plain orders',
    o.plainAttempts,
    (i) => plainOrder(`p-${i}`, `pu-${i}`, PLAIN_SKU),
    (i) => `p-${i}`,
    say,
  );
}

/** One plain `POST /orders` of one line in the bench's warehouse, as the load generator sends it. */
export function plainOrder(orderId: string, userId: string, sku: string, quantity = 1) {
  return {
    path: '/orders',
    method: 'POST' as const,
    body: JSON.stringify({ orderId, userId, lines: [{ sku, warehouseCode: WAREHOUSE, quantity }] }),
  };
}

/** Refusals only (no hold, no saga) through every path the sale uses, so the API is warm as in production. */
export async function warmUp(stack: BenchStack, o: BenchOptions): Promise<void> {
  const n = Math.min(5000, o.rejectAttempts);
  await runLoad({
    base: stack.base,
    headers: stack.auth,
    total: n,
    concurrency: o.concurrency,
    request: (i) => ({
      path: `/campaigns/${SOLD_OUT_CAMPAIGN}/orders`,
      method: 'POST',
      body: JSON.stringify({ orderId: `w-${i}`, userId: `w-${i}`, quantity: 1 }),
    }),
  });
  // Too many for the level's one unit: refused by PostgreSQL through the hold batch.
  await runLoad({
    base: stack.base,
    headers: stack.auth,
    total: Math.min(1000, n),
    concurrency: o.concurrency,
    request: (i) => plainOrder(`wp-${i}`, `wp-${i}`, WARM_SKU, 2),
  });
}

/** The pure reject path: a sold-out campaign, every saga closed. */
export function runRejects(stack: BenchStack, o: BenchOptions, say: (line: string) => void): Promise<LoadResult> {
  say(`reject path: ${o.rejectAttempts} attempts on a sold-out campaign, every saga closed`);
  const body = (i: number) => JSON.stringify({ orderId: `q-${i}`, userId: `u-${i % o.users}`, quantity: 1 });
  return runLoad({
    base: stack.base,
    headers: stack.auth,
    total: o.rejectAttempts,
    concurrency: o.concurrency,
    request: (i) => ({ path: `/campaigns/${SOLD_OUT_CAMPAIGN}/orders`, method: 'POST', body: body(i) }),
    progress: progress(say, 'rejects'),
  });
}

/** Holds still open and payments still PENDING, on either store. */
function openWork(db: Db): [Promise<number>, Promise<number>] {
  const maria = mariadbOf(db);
  if (maria) {
    const work = openWorkOnMariadb(maria);
    return [work.then((w) => w.holds), work.then((w) => w.pending)];
  }
  return [db.reservation.count({ where: { status: 'RESERVED' } }), db.payment.count({ where: { state: 'PENDING' } })];
}

/**
 * Waits until no order saga is running, no hold is open and no payment is PENDING; returns
 * when that was first seen (epoch ms). Polls every 250 ms; the exact close times come from
 * Temporal visibility and PostgreSQL afterwards (bench/sagas.ts).
 */
export async function waitAllClosed(
  stack: BenchStack,
  db: Db,
  limitSeconds: number,
  say: (line: string) => void,
): Promise<number> {
  const started = performance.now();
  let lastSaid = 0;
  for (;;) {
    const [running, holds, pending] = await Promise.all([
      stack.client.workflow
        .count(`WorkflowType = 'orderWorkflow' AND ExecutionStatus = 'Running'`)
        .then((c) => c.count),
      ...openWork(db),
    ]);
    if (running === 0 && holds === 0 && pending === 0) return Date.now();
    const elapsed = (performance.now() - started) / 1000;
    if (elapsed > limitSeconds)
      throw new Error(
        `sagas did not close within ${limitSeconds}s: ${running} running, ${holds} holds open, ${pending} payments pending`,
      );
    if (elapsed - lastSaid >= 2) {
      say(`closing: ${running} order sagas running, ${holds} holds open, ${pending} payments pending`);
      lastSaid = elapsed;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
