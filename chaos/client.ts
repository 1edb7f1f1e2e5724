/**
 * The suite's HTTP client: the calls a shop and a payment provider make, retried the way
 * real clients retry (same order id, same event id) when a 5xx or a dropped connection says
 * the service is recovering.
 */
import { signedPayment } from '../test/helpers/app';
import { CHAOS_ADMIN_TOKEN, CHAOS_SECRET } from './stack';

export interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/** Terminal saga statuses: anything else at the end of a scenario is "stuck". */
export const TERMINAL = new Set(['CONFIRMED', 'RELEASED', 'REJECTED', 'REFUND_REQUIRED']);

/** Every call is the shop's, with its key (the bootstrap key: every scope); the webhook's HMAC is on top. */
const KEY = { authorization: `Bearer ${CHAOS_ADMIN_TOKEN}` };

/**
 * No answer within this long is a failure, not a wait: without it a request to a process that
 * stopped answering would wait for undici's 5-minute header timeout, and a scenario for hours.
 */
export const CALL_TIMEOUT_MS = 60_000;

/** `timeoutMs`: give up on an answer that takes longer (the fetch rejects), as a payment provider does. */
export async function call(
  base: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
  timeoutMs = CALL_TIMEOUT_MS,
): Promise<Answer> {
  const res = await fetch(`${base}${path}`, {
    method,
    body,
    headers: body === undefined ? { ...KEY, ...headers } : { ...KEY, 'content-type': 'application/json', ...headers },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  } catch {
    parsed = { raw: text };
  }
  return { status: res.status, body: parsed };
}

/** Retries on a dropped connection or a 5xx until `deadlineMs`; returns the last answer. */
export async function callRetrying(
  base: string,
  method: string,
  path: string,
  body?: string,
  headers?: Record<string, string>,
  deadlineMs = 90_000,
): Promise<Answer> {
  const deadline = Date.now() + deadlineMs;
  for (let attempt = 1; ; attempt += 1) {
    try {
      const answer = await call(base, method, path, body, headers);
      if (answer.status < 500 || Date.now() > deadline) return answer;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    await sleep(Math.min(100 * attempt, 1_000));
  }
}

export function placeOrder(base: string, orderId: string, userId: string, sku: string, quantity = 1): Promise<Answer> {
  return callRetrying(
    base,
    'POST',
    '/orders',
    JSON.stringify({ orderId, userId, lines: [{ sku, warehouseCode: 'W1', quantity }] }),
  );
}

/** A flash-sale order, admitted by the campaign's gate (or its PostgreSQL path while the gate is down). */
export function placeFlashOrder(base: string, campaignId: string, orderId: string, userId: string): Promise<Answer> {
  return callRetrying(
    base,
    'POST',
    `/campaigns/${campaignId}/orders`,
    JSON.stringify({ orderId, userId, quantity: 1 }),
  );
}

/** The one payment the suite makes for an order: its row in `payments` is (orderId, paymentIdOf(orderId)). */
export const paymentIdOf = (orderId: string) => `pay-${orderId}`;

export function pay(base: string, orderId: string, eventId = `ev-${orderId}`): Promise<Answer> {
  const signed = signedPayment(CHAOS_SECRET, {
    eventId,
    type: 'payment.succeeded',
    orderId,
    paymentId: paymentIdOf(orderId),
    amountCents: 1000,
  });
  return callRetrying(base, 'POST', '/webhooks/payments', signed.payload, signed.headers);
}

/** One delivery of the suite's payment for `orderId`; a dropped connection or a timeout reads as status 0. */
export async function payOnce(base: string, orderId: string, timeoutMs: number): Promise<Answer> {
  // Signed per attempt, as a provider does: a retry carries a fresh timestamp.
  const signed = signedPayment(CHAOS_SECRET, {
    eventId: `ev-${orderId}`,
    type: 'payment.succeeded',
    orderId,
    paymentId: paymentIdOf(orderId),
    amountCents: 1000,
  });
  try {
    return await call(base, 'POST', '/webhooks/payments', signed.payload, signed.headers, timeoutMs);
  } catch (err) {
    const timedOut = err instanceof Error && err.name === 'TimeoutError';
    return { status: 0, body: { error: timedOut ? `no answer within ${timeoutMs} ms` : String(err).slice(0, 120) } };
  }
}

export async function orderState(base: string, orderId: string): Promise<Record<string, unknown>> {
  return (await callRetrying(base, 'GET', `/orders/${orderId}`)).body;
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
export async function pMap<T, R>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i], i);
  });
  await Promise.all(lanes);
  return results;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls every order until its saga has ended (or the deadline); returns the final states. */
export async function awaitEndings(
  base: string,
  orderIds: readonly string[],
  timeoutMs = 120_000,
): Promise<Map<string, Record<string, unknown>>> {
  const states = new Map<string, Record<string, unknown>>();
  const deadline = Date.now() + timeoutMs;
  let open = [...orderIds];
  while (open.length > 0 && Date.now() < deadline) {
    await pMap(open, 25, async (id) => states.set(id, await orderState(base, id)));
    open = open.filter((id) => !TERMINAL.has(String(states.get(id)?.status)));
    if (open.length > 0) await sleep(250);
  }
  return states;
}

/** Counts of final statuses, e.g. { CONFIRMED: 480, RELEASED: 20 }. */
export function countStatuses(states: Map<string, Record<string, unknown>>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const s of states.values()) counts[String(s.status)] = (counts[String(s.status)] ?? 0) + 1;
  return counts;
}
