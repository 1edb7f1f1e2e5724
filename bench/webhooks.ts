/**
 * The webhook phase: `n` plain orders are held (not measured), then the payment provider sends
 * their `n` signed payment webhooks at the sale's concurrency, while Temporal is busy starting
 * the sagas of those holds. The webhook answers once the payment and its delivery row are
 * committed, so its p99 is held to the no-op route's p99 of the same run (target ≤ 3×).
 */
import { signPayload } from '../platform/webhook-signature';
import type { BenchOptions } from './options';
import { runLoad, type LoadResult } from './load';
import { WAREHOUSE } from './scenario';
import type { BenchStack } from './stack';

/** The webhook phase's level and order-id prefix. */
export const WEBHOOK_SKU = 'WEBHOOK-HOT';
export const WEBHOOK_PREFIX = 'h-';

const orderId = (i: number) => `${WEBHOOK_PREFIX}${i}`;

export async function runWebhooks(
  stack: BenchStack,
  o: BenchOptions,
  n: number,
  say: (line: string) => void,
): Promise<LoadResult> {
  say(`webhook phase: ${n} holds, then their ${n} payment webhooks at concurrency ${o.concurrency}`);
  const held = await runLoad({
    base: stack.base,
    headers: stack.auth,
    total: n,
    concurrency: o.concurrency,
    request: (i) => ({
      path: '/orders',
      method: 'POST',
      body: JSON.stringify({
        orderId: orderId(i),
        userId: `hu-${i}`,
        lines: [{ sku: WEBHOOK_SKU, warehouseCode: WAREHOUSE, quantity: 1 }],
      }),
    }),
  });
  const refused = held.samples.filter((s) => s.outcome !== '201').length;
  if (refused > 0) say(`webhook phase: ${refused} of ${n} holds not taken (their payments settle as refunds)`);
  return runLoad({
    base: stack.base,
    total: n,
    concurrency: o.concurrency,
    request: (i) => {
      const body = JSON.stringify({
        eventId: `ev-${orderId(i)}`,
        type: 'payment.succeeded',
        orderId: orderId(i),
        paymentId: `pay-${orderId(i)}`,
        amountCents: 999,
      });
      const ts = Math.floor(Date.now() / 1000);
      return {
        path: '/webhooks/payments',
        method: 'POST',
        body,
        headers: { 'x-signature-timestamp': String(ts), 'x-signature': signPayload(stack.webhookSecret, ts, body) },
      };
    },
    progress: (done, total, s) => say(`webhooks: ${done}/${total} (${Math.round(done / s)}/s)`),
  });
}
