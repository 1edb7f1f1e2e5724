/**
 * 11. Pre-sale paid at the release: pre-orders (short TTL) of a pre-sale whose campaign row
 * another connection keeps locked from just before the first hold's expiry until 4 s past the
 * last, so each expired pre-order's release blocks (it gives its unit back to the campaign's
 * pool). The payments are spread from before the expiries, through the blocked releases, to
 * after the sagas ended; one pre-order is never paid. Then the goods arrive (fewer than the
 * paid pre-orders) and the pre-sale is fulfilled. Every order saga must end (none waits in
 * BACKORDERED for ever), every payment must end CONFIRMED or REFUND_REQUIRED, and
 * GET /orders/:id must say what the payments say.
 */
import { eventually } from '../../test/helpers/app';
import { upsertProduct, upsertWarehouse } from '../../data/stock/catalog';
import { callRetrying, orderState, pay, placeFlashOrder, pMap, sleep, type Answer } from '../client';
import { closeScenario, orderIds, type Scenario } from '../scenario';
import type { Stack } from '../stack';
import { at, lockCampaignRow, phaseOf, sagaRunning, tally, type Phase } from './payment-phases';
import { settlementProblems } from './payment-settlements';

const CAMPAIGN = 'ps11';
const SKU = 'CHAOS-PRESALE';
/** Each blocked release keeps a workflow task of the worker open (scenario 9's (c) has the same bound). */
const ORDERS_MAX = 15;
/** The campaign row stays locked this long past the last expiry (more than one 3 s lock_timeout). */
const LOCK_PAST_EXPIRY_MS = 4_000;
/** Payments go out from this long before a hold's expiry... */
const BEFORE_MS = 1_500;
/** ...until this long after the lock is gone (the sagas have ended by then: late settlements). */
const AFTER_MS = 3_000;
/** How long every order saga gets to end once the pre-sale is fulfilled. */
const SAGA_END_WAIT_MS = 30_000;

interface Delivery {
  readonly id: string;
  readonly phase: Phase;
  readonly answer: Answer;
}

interface PaymentView {
  paymentId: string;
  state: string;
  reservationId: string | null;
}

const describePayments = (payments: readonly PaymentView[]) =>
  payments.map((p) => `${p.paymentId} ${p.state} on ${p.reservationId ?? 'nothing'}`).join(', ') || 'no payment';

/** The status GET /orders/:id must show once everything is settled, from the order's payments. */
function expectedStatus(payments: readonly PaymentView[]): string {
  if (payments.some((p) => p.state === 'CONFIRMED')) return 'CONFIRMED';
  if (payments.length > 0) return 'REFUND_REQUIRED';
  return 'RELEASED';
}

async function openPreSale(stack: Stack, quota: number): Promise<void> {
  // The goods have not arrived: the SKU exists with no stock at all.
  await upsertProduct(stack.db, SKU, SKU);
  await upsertWarehouse(stack.db, 'W1', 'W1');
  const now = Date.now();
  const body = {
    id: CAMPAIGN,
    kind: 'PRE_SALE',
    expectedAt: new Date(now + 14 * 24 * 3_600_000).toISOString(),
    sku: SKU,
    warehouseCode: 'W1',
    startsAt: new Date(now - 1_000).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
    quota,
    perUserLimit: 1,
  };
  const res = await callRetrying(stack.api, 'POST', '/admin/campaigns', JSON.stringify(body));
  if (res.status !== 201) throw new Error(`pre-sale ${CAMPAIGN} → ${res.status} ${JSON.stringify(res.body)}`);
}

/** Waits (bounded) until no saga of `ids` runs; names each one still running, with what the order and its payments say. */
async function wedgedSagas(stack: Stack, ids: readonly string[]): Promise<string[]> {
  const deadline = Date.now() + SAGA_END_WAIT_MS;
  let running = [...ids];
  while (running.length > 0 && Date.now() < deadline) {
    running = (await pMap(running, 10, async (id) => ((await sagaRunning(stack, id)) ? id : ''))).filter(Boolean);
    if (running.length > 0) await sleep(500);
  }
  return pMap(running, 10, async (id) => {
    const order = await orderState(stack.api, id);
    return `order-${id} still RUNNING ${SAGA_END_WAIT_MS / 1000} s after the fulfilment (GET says ${String(order.status)}; ${describePayments((order.payments ?? []) as PaymentView[])})`;
  });
}

/** GET /orders/:id against the order's payments, and every payment CONFIRMED or REFUND_REQUIRED. */
async function endingProblems(stack: Stack, ids: readonly string[]): Promise<string[]> {
  const disagree: string[] = [];
  const unsettled: string[] = [];
  for (const id of ids) {
    const order = await orderState(stack.api, id);
    const payments = (order.payments ?? []) as PaymentView[];
    for (const p of payments)
      if (p.state !== 'CONFIRMED' && p.state !== 'REFUND_REQUIRED')
        unsettled.push(`${id}/${p.paymentId} ${p.state} on ${p.reservationId ?? 'nothing'}`);
    const expected = expectedStatus(payments);
    if (order.status !== expected)
      disagree.push(
        `${id}: GET /orders/:id says ${String(order.status)}, expected ${expected} (${describePayments(payments)})`,
      );
  }
  const problems: string[] = [];
  if (unsettled.length > 0)
    problems.push(
      `${unsettled.length} payments neither CONFIRMED nor REFUND_REQUIRED: ${unsettled.slice(0, 5).join(', ')}`,
    );
  if (disagree.length > 0)
    problems.push(
      `${disagree.length} orders whose status disagrees with their payments: ${disagree.slice(0, 5).join('; ')}`,
    );
  return problems;
}

export const preSalePaidAtRelease: Scenario = {
  notOn: { mariadb: 'pre-sales do not run on MySQL/MariaDB yet (STORE_NOT_SUPPORTED)' },
  name: '11 pre-sale paid at the release',
  async run(stack, size) {
    const n = Math.min(ORDERS_MAX, Math.max(10, Math.floor(size.orders / 4)));
    await openPreSale(stack, n);
    const ids = orderIds(CAMPAIGN, n);
    const expiresAt = new Map<string, number>();
    const problems: string[] = [];
    await pMap(ids, 25, async (id) => {
      const answer = await placeFlashOrder(stack.shortApi, CAMPAIGN, id, `u-${id}`);
      if (answer.status === 201) expiresAt.set(id, Date.parse(String(answer.body.expiresAt)));
      else problems.push(`pre-order ${id} → ${answer.status} ${String(answer.body.code)}`);
    });
    const held = ids.filter((id) => expiresAt.has(id));
    const first = Math.min(...held.map((id) => expiresAt.get(id)!));
    const last = Math.max(...held.map((id) => expiresAt.get(id)!));

    // The releases of the expired pre-orders block on the campaign row, fail at lock_timeout and are retried.
    const locked = at(
      first - 500,
      async () => (await lockCampaignRow(stack, CAMPAIGN, last - first + 500 + LOCK_PAST_EXPIRY_MS)).released,
    );
    const paid = held.slice(0, -1); // the last pre-order is never paid: it must end RELEASED
    const windowMs = BEFORE_MS + last - first + LOCK_PAST_EXPIRY_MS + AFTER_MS;
    const deliveries: Delivery[] = [];
    await Promise.all([
      locked,
      pMap(paid, paid.length, (id, i) =>
        at(expiresAt.get(id)! - BEFORE_MS + Math.round((i * windowMs) / Math.max(1, paid.length - 1)), async () => {
          const phase = await phaseOf(stack, id, 'held');
          deliveries.push({ id, phase, answer: await pay(stack.api, id) });
        }),
      ),
    ]);
    const accepted = new Set(deliveries.filter((d) => d.answer.status === 200).map((d) => d.id));

    // The goods arrive once the payments are settled as far as they can be before it (BACKORDERED or a refund).
    await eventually(
      () => stack.db.payment.count({ where: { orderId: { in: paid }, state: 'PENDING' } }),
      (pending) => pending === 0,
      30_000,
    ).catch(() => undefined);
    const quantity = Math.max(1, Math.ceil(accepted.size / 2));
    const fulfil = await callRetrying(
      stack.api,
      'POST',
      `/admin/campaigns/${CAMPAIGN}/fulfil`,
      JSON.stringify({ quantity }),
      {
        'idempotency-key': `${CAMPAIGN}-grn`,
      },
    );
    if (fulfil.status !== 200)
      problems.push(`fulfilment → ${fulfil.status} ${JSON.stringify(fulfil.body).slice(0, 200)}`);
    const recoverFrom = Date.now();

    problems.push(...(await wedgedSagas(stack, held)));
    problems.push(...(await endingProblems(stack, held)));
    const row = await closeScenario(stack, {
      scenario: this.name,
      base: stack.api,
      orderIds: held,
      paid: accepted,
      recoverFrom,
      problems,
      endingsTimeoutMs: 5_000,
    });
    const delivered = deliveries.map((d) => ({ id: d.id, status: d.answer.status }));
    row.problems.push(...(await settlementProblems(stack, CAMPAIGN, delivered, new Set())));

    const states = await stack.db.payment.groupBy({ by: ['state'], where: { orderId: { in: held } }, _count: true });
    const byState = Object.fromEntries(states.map((s) => [`pay→${s.state}`, s._count]));
    const named = (key: string) => ((fulfil.body[key] ?? []) as string[]).map((id) => id.replace(`${CAMPAIGN}-`, ''));
    const notes =
      `${deliveries.length} payments (${tally(deliveries.map((d) => d.phase))}); ${quantity} units received: ` +
      `allocated [${named('allocated').join(' ')}], refunded [${named('refundRequired').join(' ')}]`;
    return { ...row, outcomes: { ...row.outcomes, ...byState }, notes };
  },
};
