/**
 * 12. Scenario 9 again (its own campaigns and orders, `p12…`) with the worker starved of CPU:
 * busy loops beside the stack, two per core, for the scenario's duration only. A starved
 * worker runs each saga's workflow tasks late, so a payment signal lands while the task that
 * would complete the saga is in flight — how the lost payment of issue 16 item 1 showed (a
 * payment 190 ms after an ordinary order's expired hold was released). Beside scenario 9's
 * groups, (f) aims at that window: ordinary orders (no gate, so the saga completes right
 * after its release) each paid within a few hundred milliseconds of its release's commit, as
 * seen in PostgreSQL.
 */
import { eventually } from '../../test/helpers/app';
import { stock } from '../../test/helpers/db';
import { orderState, pay, placeOrder, pMap, sleep, type Answer } from '../client';
import { startCpuLoad } from '../cpu-load';
import { orderIds, type Scenario } from '../scenario';
import { shortTtlSeconds, type Stack } from '../stack';
import { at, sagaRunning } from './payment-phases';
import { paymentEndingsScenario } from './payment-endings';

/** The scenario's bound past its holds' TTL: the load never outlives it, whatever the scenario does. */
const LOAD_PAST_TTL_MS = 60_000;
/** (f)'s payments go out this long after their release commits, spread over the orders. */
const AFTER_RELEASE_MAX_MS = 400;
/** How long (f) watches a hold for its release, and how long its payments get to be settled. */
const WATCH_MS = 30_000;
const SETTLE_MS = 60_000;

interface AtRelease {
  readonly id: string;
  /** Milliseconds between the release's commit being seen and the delivery; undefined: never released. */
  readonly afterMs?: number;
  readonly answer?: Answer;
}

/** Polls the hold's row until it is no longer RESERVED; resolves when seen (undefined past `WATCH_MS`). */
async function releaseSeen(stack: Stack, id: string): Promise<number | undefined> {
  const deadline = Date.now() + WATCH_MS;
  while (Date.now() < deadline) {
    const row = await stack.probe.holdOf(id);
    if (row && row.status !== 'RESERVED') return Date.now();
    await sleep(20);
  }
  return undefined;
}

/** (f) Ordinary orders, never paid in time: each paid just after its expired hold's release commits. */
async function paidAtRelease(stack: Stack, n: number): Promise<AtRelease[]> {
  const sku = 'CHAOS-P12F';
  await stock(stack.db, sku, 'W1', 2 * n);
  const ids = orderIds('p12f', n);
  const placed = await pMap(ids, n, (id) => placeOrder(stack.shortApi, id, `u-${id}`, sku));
  return pMap(ids, n, async (id, i) => {
    if (placed[i].status !== 201) return { id };
    const released = await at(Date.parse(String(placed[i].body.expiresAt)) - 200, () => releaseSeen(stack, id));
    if (released === undefined) return { id };
    await sleep(Math.round((i * AFTER_RELEASE_MAX_MS) / Math.max(1, n - 1)));
    return { id, afterMs: Date.now() - released, answer: await pay(stack.api, id) };
  });
}

/** Every (f) payment the webhook accepted must be settled, and its order's saga ended saying so. */
async function atReleaseProblems(stack: Stack, group: readonly AtRelease[]): Promise<string[]> {
  const accepted = group.filter((g) => g.answer?.status === 200);
  const ids = accepted.map((g) => g.id);
  const unsettled = () => stack.probe.pendingPaymentsOf(ids);
  const left = await eventually(unsettled, (rows) => rows.length === 0, SETTLE_MS).catch(() => unsettled());
  const problems: string[] = [];
  for (const p of left) {
    const g = accepted.find((a) => a.id === p.orderId)!;
    const order = await orderState(stack.api, p.orderId);
    const saga = (await sagaRunning(stack, p.orderId)) ? 'saga running' : 'saga closed';
    problems.push(
      `${p.orderId}/${p.paymentId} PENDING ${SETTLE_MS / 1000} s after it was delivered ${g.afterMs} ms after its release ` +
        `(webhook ${g.answer!.status} ${String(g.answer!.body.result ?? g.answer!.body.code)}; ${saga}, GET says ${String(order.status)}, payments ${JSON.stringify(order.payments ?? [])})`,
    );
  }
  const refused = group.filter((g) => g.answer && g.answer.status !== 200).map((g) => `${g.id} → ${g.answer!.status}`);
  if (refused.length > 0) problems.push(`(f) webhook refused: ${refused.join(', ')}`);
  return problems.length > 0 ? [`(f) paid at the release: ${problems.join('; ')}`] : [];
}

const NAME = '12 payments at every saga ending, worker starved of CPU';

export const paymentEndingsStarved: Scenario = {
  name: NAME,
  async run(stack, size) {
    // Placing, the faults and the deliveries take about two TTLs (groups (a) and (b) expire in turn).
    const boundMs = 2 * shortTtlSeconds(size.orders) * 1_000 + LOAD_PAST_TTL_MS;
    const load = startCpuLoad(boundMs);
    try {
      // Caught here so that a failure of (f) cannot go unhandled while scenario 9's groups run.
      const f = paidAtRelease(stack, Math.max(10, Math.floor(size.orders / 4))).catch((err: Error) => err);
      // The load lasts while payments land; the closing checks (every saga ended, every payment settled) run unloaded.
      const delivered = async () => {
        await f;
        await load.stop();
      };
      const row = await paymentEndingsScenario(NAME, 'p12', { delivered }).run(stack, size);
      const group = await f;
      if (group instanceof Error)
        return {
          ...row,
          problems: [...row.problems, `(f) paid at the release crashed: ${group.stack ?? group.message}`],
        };
      row.problems.push(...(await atReleaseProblems(stack, group)));
      const within = group.filter((g) => g.afterMs !== undefined).map((g) => g.afterMs!);
      // A hold whose release is not seen in time is not paid: the group aims at the release, it does not judge its speed.
      const missed = group.length - within.length;
      const states = Object.entries(await stack.probe.paymentStateCounts(group.map((g) => g.id)));
      const fNote =
        `(f) ${within.length} paid ${Math.min(...within)}–${Math.max(...within)} ms after their release: ${states.map(([state, n]) => `${state} ${n}`).join(', ')}` +
        (missed > 0 ? `; ${missed} not seen released within ${WATCH_MS / 1000} s, not paid` : '');
      return {
        ...row,
        notes: `${load.burners} busy loops beside the stack (for at most ${boundMs / 1000} s); ${row.notes ?? ''}; ${fNote}`,
      };
    } finally {
      await load.stop();
    }
  },
};
