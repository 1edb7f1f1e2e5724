/**
 * 9. Payments at every saga ending: flash-sale orders paid, through the signed webhook, while
 * their saga is in each of its endings — (a) giving the gate token back with Redis paused,
 * (b) giving it back with Redis SIGKILLed, (c) releasing an expired hold whose campaign row
 * is locked, (d) after PostgreSQL refused the reserve (sold out while the gate was down),
 * (e) before a hold blocked past lock_timeout is taken (its first attempts answer 503 and hold
 * nothing; the client retries with the same id). Deliveries are spread over each
 * window, so some land before, in and after it; each is classified just before it is sent.
 * Every payment must end settled in PostgreSQL, by the sagas alone.
 */
import { stock } from '../../test/helpers/db';
import { callRetrying, pay, placeFlashOrder, pMap, sleep, type Answer } from '../client';
import { closeScenario, orderIds, type Scenario, type Size } from '../scenario';
import type { Row } from '../table';
import { shortTtlSeconds, type Stack } from '../stack';
import { at, lockCampaignRow, pauseRedis, Phase, phaseOf, sagaRunning, tally, type Placement } from './payment-phases';
import { settlementProblems } from './payment-settlements';

/** How long Redis is paused (a), killed (b), and the campaign row locked past the last expiry (c). */
const PAUSE_MS = 3_000;
const KILL_MS = 3_000;
const LOCK_PAST_EXPIRY_MS = 4_000;
/**
 * Orders of the group whose sagas sit in a blocked step, (c): each keeps a workflow task of
 * the worker open (a local step retrying under the lock), and the worker runs 40 at once; more
 * would starve every other group's saga of its release and give-back.
 */
const BLOCKED_MAX = 15;
/** How long (e)'s campaign row stays locked: past one lock_timeout (3 s), so first attempts fail. */
const HOLD_BLOCKED_MS = 5_000;
/** Payments go out from this long before a hold's expiry (some must still confirm normally)... */
const BEFORE_MS = 500;
/** ...until this long after the fault window (some must be late-payment settlements). */
const AFTER_MS = 1_000;

type Group = 'a' | 'b' | 'c' | 'd' | 'e';
const GROUPS: Record<Group, string> = {
  a: 'give-back, Redis paused',
  b: 'give-back, Redis killed',
  c: 'release, row locked',
  d: 'refused, gate down',
  e: 'hold blocked, 503',
};

interface Delivery {
  readonly id: string;
  readonly group: Group;
  readonly phase: Phase;
  readonly answer: Answer;
}

/** One run's orders: what the shop was told, and every payment delivery. */
class Run {
  readonly placement = new Map<string, Placement>();
  readonly expiresAt = new Map<string, number>();
  readonly deliveries: Delivery[] = [];
  readonly problems: string[] = [];
  /** `prefix` names this run's campaigns (`<prefix><group>`), SKUs and orders, so two runs share a stack. */
  constructor(
    readonly stack: Stack,
    readonly prefix: string,
  ) {}

  ids(group: Group, n: number): string[] {
    return orderIds(`${this.prefix}${group}`, n);
  }

  async place(base: string, group: Group, ids: readonly string[], concurrency = 25): Promise<void> {
    await pMap(ids, concurrency, async (id) => {
      this.placement.set(id, 'pending');
      const answer = await placeFlashOrder(base, `${this.prefix}${group}`, id, `u-${id}`);
      const code = String(answer.body.code);
      if (answer.status === 201) this.expiresAt.set(id, Date.parse(String(answer.body.expiresAt)));
      else if (answer.status !== 409) this.problems.push(`order ${id} → ${answer.status} ${code}`);
      this.placement.set(id, answer.status === 201 ? 'held' : 'refused');
    });
  }

  async deliver(id: string, group: Group): Promise<void> {
    const phase = await phaseOf(this.stack, id, this.placement.get(id) ?? 'pending');
    this.deliveries.push({ id, group, phase, answer: await pay(this.stack.api, id) });
  }

  /** Pays every held order of `ids` at its expiry + an offset spread over [-BEFORE_MS, windowMs + AFTER_MS]. */
  payAroundExpiries(ids: readonly string[], group: Group, windowMs: number): Promise<void[]> {
    const held = ids.filter((id) => this.expiresAt.has(id));
    return pMap(held, held.length, (id, i) =>
      at(this.expiresAt.get(id)! + spread(i, held.length, windowMs), () => this.deliver(id, group)),
    );
  }

  expiries(ids: readonly string[]): { first: number; last: number } {
    const times = ids.map((id) => this.expiresAt.get(id)).filter((t): t is number => t !== undefined);
    return { first: Math.min(...times), last: Math.max(...times) };
  }
}

const spread = (i: number, n: number, windowMs: number) =>
  -BEFORE_MS + Math.round((i * (BEFORE_MS + windowMs + AFTER_MS)) / Math.max(1, n - 1));

async function openCampaign(stack: Stack, prefix: string, group: Group, quota: number): Promise<void> {
  const id = `${prefix}${group}`;
  const sku = `CHAOS-PAY-${id.toUpperCase()}`;
  await stock(stack.db, sku, 'W1', quota);
  const now = Date.now();
  const body = {
    id,
    sku,
    warehouseCode: 'W1',
    startsAt: new Date(now - 1_000).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
    quota,
    perUserLimit: 1,
  };
  const res = await callRetrying(stack.api, 'POST', '/admin/campaigns', JSON.stringify(body));
  if (res.status !== 201) throw new Error(`campaign ${id} → ${res.status} ${JSON.stringify(res.body)}`);
}

/**
 * (e) The campaign row locked past one lock_timeout while the orders come in: their first
 * attempts answer 503 and hold nothing, the client retries with the same id and gets the
 * real outcome once the row is free. Half are paid while blocked (the order does not exist
 * yet: kept, delivered once the hold commits), half after their hold. Short TTL: the holds nobody paid expire.
 */
async function blocked(run: Run, n: number): Promise<void> {
  const lock = await lockCampaignRow(run.stack, `${run.prefix}e`, HOLD_BLOCKED_MS);
  const ids = run.ids('e', n);
  const early = Math.floor(n / 2);
  const from = Date.now();
  await pMap(ids, ids.length, async (id, i) => {
    const placed = run.place(run.stack.shortApi, 'e', [id]);
    if (i < early)
      await at(from + 500 + Math.round((i * (HOLD_BLOCKED_MS - 1_500)) / early), () => run.deliver(id, 'e'));
    await placed;
    if (i >= early) await sleep(spread(i - early, n - early, 1_000) + BEFORE_MS).then(() => run.deliver(id, 'e'));
  });
  await lock.released;
}

/** (d) Twice the pool ordered while the gate is down: PostgreSQL refuses half; all are paid after their answer. */
async function refused(run: Run, n: number): Promise<void> {
  const ids = run.ids('d', 2 * n);
  await pMap(ids, ids.length, async (id, i) => {
    await run.place(run.stack.api, 'd', [id]);
    await sleep(spread(i, ids.length, 1_000) + BEFORE_MS);
    await run.deliver(id, 'd');
  });
}

/**
 * Scenario 9's run under `name`, its campaigns, SKUs and orders prefixed `prefix` (scenario 12
 * runs it again on the same stack with the worker starved of CPU).
 */
export function paymentEndingsScenario(name: string, prefix: string, hooks: EndingsHooks = {}): Scenario {
  return { name, run: (stack, size) => runEndings(name, prefix, stack, size, hooks) };
}

/** What a variant of scenario 9 adds around its run. */
export interface EndingsHooks {
  /** Called once every payment was delivered and the faults are over, before the closing checks. */
  readonly delivered?: () => Promise<void>;
}

export const paymentEndings = paymentEndingsScenario('9 payments at every saga ending', 'p9');

async function runEndings(name: string, prefix: string, stack: Stack, size: Size, hooks: EndingsHooks): Promise<Row> {
  const n = Math.max(6, Math.floor(size.orders / 5));
  const ttlMs = shortTtlSeconds(size.orders) * 1_000;
  for (const g of Object.keys(GROUPS) as Group[])
    await openCampaign(stack, prefix, g, g === 'd' ? Math.ceil(n / 2) : n);
  const run = new Run(stack, prefix);
  const ids = { a: run.ids('a', n), b: run.ids('b', n), c: run.ids('c', Math.min(n, BLOCKED_MAX)) };

  const e = blocked(run, Math.min(n, BLOCKED_MAX));
  await Promise.all([run.place(stack.shortApi, 'a', ids.a), run.place(stack.shortApi, 'c', ids.c)]);
  const a = run.expiries(ids.a);
  const c = run.expiries(ids.c);
  const faults = [
    at(a.first - 300, () => pauseRedis(stack, PAUSE_MS)),
    // Releases of (c) block on the campaign row, fail at lock_timeout and are retried.
    at(
      c.first - 500,
      async () => (await lockCampaignRow(stack, `${prefix}c`, c.last - c.first + 500 + LOCK_PAST_EXPIRY_MS)).released,
    ),
  ];
  // The give-back outlasts the pause by its retry backoff; the release outlasts the lock by little.
  const paid = [
    run.payAroundExpiries(ids.a, 'a', PAUSE_MS - 500),
    run.payAroundExpiries(ids.c, 'c', LOCK_PAST_EXPIRY_MS),
  ];

  // (b) expires once Redis is back from the pause.
  await at(a.last + PAUSE_MS + 1_500 - ttlMs, () => run.place(stack.shortApi, 'b', ids.b));
  const b = run.expiries(ids.b);
  const killed = at(b.first - 300, async () => {
    await stack.redis.kill();
    const d = sleep(200).then(() => refused(run, Math.ceil(n / 2)));
    await sleep(KILL_MS);
    await stack.redis.start();
    await d;
  });
  await Promise.all([...faults, ...paid, run.payAroundExpiries(ids.b, 'b', KILL_MS - 500), killed, e]);
  await hooks.delivered?.();
  const recoverFrom = Date.now();

  const placed = [...run.placement.keys()];
  const noSaga = new Set(
    (await pMap(placed, 25, async (id) => ((await sagaRunning(stack, id)) === undefined ? id : ''))).filter(Boolean),
  );
  const accepted = new Set(run.deliveries.filter((d) => d.answer.status === 200).map((d) => d.id));
  const row = await closeScenario(stack, {
    scenario: name,
    base: stack.api,
    orderIds: placed.filter((id) => !noSaga.has(id)),
    paid: accepted,
    recoverFrom,
    problems: run.problems,
  });
  const delivered = run.deliveries.map((d) => ({ id: d.id, status: d.answer.status }));
  const unknownAtDelivery = new Set(
    run.deliveries.filter((d) => d.phase === Phase.NO_SAGA || d.phase === Phase.BLOCKED).map((d) => d.id),
  );
  row.problems.push(...(await settlementProblems(stack, prefix, delivered, unknownAtDelivery)));

  const states = await stack.probe.paymentStateCountsLike(prefix);
  const byState = Object.fromEntries(Object.entries(states).map(([state, n]) => [`pay→${state}`, n]));
  const phases = (Object.keys(GROUPS) as Group[]).map(
    (g) => `(${g}) ${GROUPS[g]}: ${tally(run.deliveries.filter((d) => d.group === g).map((d) => d.phase))}`,
  );
  const notes = `${run.deliveries.length} payments delivered (${accepted.size} accepted, ${tally(run.deliveries.filter((d) => d.answer.status !== 200).map((d) => String(d.answer.status))) || 'none refused'}), ${Object.values(states).reduce((s, n) => s + n, 0)} stored; landed in — ${phases.join('; ')}`;
  return { ...row, outcomes: { ...row.outcomes, ...byState }, notes };
}
