/**
 * 10. Temporal down across the expiry while payments arrive: orders are held (short TTL) —
 * (r) with their saga running, then (o) while Temporal is already down (their saga waits in
 * the outbox) — the dev server is stopped, two orders in three are paid through the signed
 * webhook before their hold's `expiresAt`, and Temporal stays down past the last expiry. The
 * payments are stored in PostgreSQL whatever the webhook answers; the provider retries every
 * non-2xx (the first answers are recorded). Once Temporal is back, a payment received before
 * its order's `expiresAt` is on time: it must end CONFIRMED on the order's own hold — not
 * REFUND_REQUIRED, not a late re-reserve — and the order CONFIRMED.
 */
import { stock } from '../../test/helpers/db';
import { orderState, payOnce, placeOrder, pMap, sleep, type Answer } from '../client';
import { closeScenario, orderIds, type Scenario } from '../scenario';
import type { Stack } from '../stack';
import { at, sagaRunning, tally } from './payment-phases';
import { settlementProblems } from './payment-settlements';

const SKU = 'CHAOS-TDOWN';
/** The last payment goes out this long before its hold's expiry (its row must land before it). */
const BEFORE_EXPIRY_MS = 1_000;
/** Temporal stays down this long past the last hold's expiry. */
const DOWN_PAST_EXPIRY_MS = 3_000;
/** A provider gives up on one answer after this long and retries. */
const ANSWER_TIMEOUT_MS = 10_000;
/** How long the provider keeps retrying once Temporal is back. */
const RETRY_AFTER_BACK_MS = 90_000;
/** How long (r)'s sagas get to start before Temporal is stopped. */
const START_WAIT_MS = 20_000;

/** One payment as its provider saw it: the first answer (Temporal down), the last one, how many tries. */
interface Delivery {
  readonly id: string;
  readonly first: Answer;
  readonly last: Answer;
  readonly attempts: number;
}

const brief = (a: Answer) => `${a.status} ${String(a.body.code ?? a.body.result ?? a.body.error ?? '')}`.trim();

/** Delivers until a 2xx, retrying every other answer; stops at `deadline()` (read at each retry: it moves once Temporal is back). */
async function deliverLikeAProvider(stack: Stack, id: string, deadline: () => number): Promise<Delivery> {
  const first = await payOnce(stack.api, id, ANSWER_TIMEOUT_MS);
  let last = first;
  let attempts = 1;
  while ((last.status < 200 || last.status > 299) && Date.now() < deadline()) {
    await sleep(Math.min(250 * attempts, 2_000));
    last = await payOnce(stack.api, id, ANSWER_TIMEOUT_MS);
    attempts += 1;
  }
  return { id, first, last, attempts };
}

/** Waits until every saga of `ids` runs (bounded): (r) must be in Temporal before it stops. */
async function awaitSagas(stack: Stack, ids: readonly string[]): Promise<string[]> {
  const deadline = Date.now() + START_WAIT_MS;
  let missing = [...ids];
  while (missing.length > 0 && Date.now() < deadline) {
    missing = (await pMap(missing, 10, async (id) => ((await sagaRunning(stack, id)) ? '' : id))).filter(Boolean);
    if (missing.length > 0) await sleep(200);
  }
  return missing;
}

/**
 * Every payment stored before its order's `expiresAt` must be CONFIRMED on the order's own
 * hold, and the order CONFIRMED without a late confirmation; the rest of the order's paid
 * story is checked by closeScenario (settled) and settlementProblems (ledger agrees).
 */
async function onTimeProblems(
  stack: Stack,
  ids: readonly string[],
  deliveries: Map<string, Delivery>,
): Promise<{ onTime: number; problems: string[] }> {
  const rows = await stack.probe.onTimePayments(ids);
  const wrong: string[] = [];
  for (const r of rows) {
    const order = await orderState(stack.api, r.order_id);
    if (
      r.state === 'CONFIRMED' &&
      r.reservation_id === r.order_id &&
      order.status === 'CONFIRMED' &&
      order.lateConfirmed !== true
    )
      continue;
    const d = deliveries.get(r.order_id);
    const answers = d
      ? `first answer ${brief(d.first)}, ${d.attempts} deliveries, last ${brief(d.last)}`
      : 'no delivery recorded';
    wrong.push(
      `${r.order_id}/${r.payment_id} received ${r.early_ms} ms before expiry (${answers}): expected CONFIRMED on ${r.order_id}, ` +
        `got ${r.state} on ${r.reservation_id ?? 'nothing'}${r.reason ? ` (${r.reason})` : ''}, order ${String(order.status)}${order.lateConfirmed ? ' lateConfirmed' : ''}`,
    );
  }
  const problems =
    wrong.length > 0
      ? [
          `${wrong.length} of ${rows.length} on-time payments not confirmed on their own hold: ${wrong.slice(0, 5).join('; ')}`,
        ]
      : [];
  return { onTime: rows.length, problems };
}

export const temporalDownAcrossExpiry: Scenario = {
  name: '10 Temporal down across the expiry',
  async run(stack, size) {
    const n = Math.max(4, Math.floor(size.orders / 8));
    await stock(stack.db, SKU, 'W1', 4 * n);
    const ids = { r: orderIds('tdown-r', n), o: orderIds('tdown-o', n) };
    const expiresAt = new Map<string, number>();
    const problems: string[] = [];
    const place = (group: readonly string[]) =>
      pMap(group, 25, async (id, i) => {
        const answer = await placeOrder(stack.shortApi, id, `tdown-user-${i}`, SKU);
        if (answer.status === 201) expiresAt.set(id, Date.parse(String(answer.body.expiresAt)));
        else problems.push(`order ${id} → ${brief(answer)}`);
      });

    await place(ids.r);
    const notStarted = await awaitSagas(stack, ids.r);
    if (notStarted.length > 0)
      problems.push(`sagas not running before Temporal stopped: ${notStarted.slice(0, 5).join(', ')}`);
    const deliveries = new Map<string, Delivery>();
    let back = Number.POSITIVE_INFINITY;
    await stack.stopTemporal();
    try {
      await place(ids.o);
      const held = [...ids.r, ...ids.o].filter((id) => expiresAt.has(id));
      const paid = held.filter((_, i) => i % 3 !== 2);
      const from = Date.now();
      // Deliveries spread from now to just before each hold's expiry; the provider retries until Temporal is back and past.
      const delivering = pMap(paid, paid.length, (id, i) =>
        at(from + Math.round((i / paid.length) * (expiresAt.get(id)! - BEFORE_EXPIRY_MS - from)), () =>
          deliverLikeAProvider(stack, id, () => back + RETRY_AFTER_BACK_MS),
        ).then((d) => deliveries.set(id, d)),
      );
      await sleep(Math.max(...held.map((id) => expiresAt.get(id)!)) + DOWN_PAST_EXPIRY_MS - Date.now());
      await stack.startTemporal();
      back = Date.now();
      await delivering;
    } finally {
      // Whatever went wrong above, the rest of the suite needs Temporal.
      await stack.startTemporal();
    }
    const recoverFrom = Date.now();

    const all = [...ids.r, ...ids.o].filter((id) => expiresAt.has(id));
    const accepted = new Set(
      [...deliveries.values()].filter((d) => d.last.status >= 200 && d.last.status <= 299).map((d) => d.id),
    );
    const refused = [...deliveries.values()].filter((d) => !accepted.has(d.id));
    const never = refused.slice(0, 5).map((d) => `${d.id} → ${brief(d.last)} after ${d.attempts} deliveries`);
    if (refused.length > 0) problems.push(`${refused.length} payments never accepted: ${never.join(', ')}`);
    const row = await closeScenario(stack, {
      scenario: this.name,
      base: stack.api,
      orderIds: all,
      paid: accepted,
      recoverFrom,
      problems,
    });
    const onTime = await onTimeProblems(stack, all, deliveries);
    row.problems.push(...onTime.problems);
    const final = [...deliveries.values()].map((d) => ({ id: d.id, status: d.last.status }));
    row.problems.push(...(await settlementProblems(stack, 'tdown', final, new Set())));

    const states = await stack.probe.paymentStateCounts(all);
    const byState = Object.fromEntries(Object.entries(states).map(([state, n]) => [`pay→${state}`, n]));
    const firsts = tally([...deliveries.values()].map((d) => brief(d.first)));
    const notes =
      `${ids.r.length} held with their saga running, ${ids.o.length} while Temporal was down; ${deliveries.size} paid, ${onTime.onTime} payments stored before expiry; ` +
      `first answers: ${firsts || 'none'}; Temporal down ${DOWN_PAST_EXPIRY_MS / 1000} s past the last expiry`;
    return { ...row, outcomes: { ...row.outcomes, ...byState }, notes };
  },
};
