/**
 * Issue 18 item 3 on the real services: subscriptions by route, and delivery to a loopback
 * receiver, each request verified with the npm `standardwebhooks` package. The delivery's
 * clock is injected: retries and Retry-After are stepped through without waiting.
 */
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { assignAll, leaseSubscription } from '../../data/events';
import type { Db } from '../../data/db';
import { typeSelected } from '../../domain/event-subscriptions';
import { createMetrics } from '../../platform/metrics';
import { sendWebhook } from '../../platform/webhook-client';
import {
  deliverStep,
  metricsObserver,
  type StepResult,
  type WebhookDeliveryDeps,
} from '../../use-cases/event-webhooks';
import { WebhookDispatcher } from '../../use-cases/webhook-dispatcher';
import { eventually, useAppStack } from '../helpers/app';
import { resetDb, stock } from '../helpers/db';
import { useWebhookReceiver, type Received } from '../helpers/webhook-receiver';

const stack = useAppStack('time-skipping', 'event-webhooks-test');
const receiver = useWebhookReceiver();
let db: Db;
let app: FastifyInstance;
beforeAll(() => {
  ({ db, app } = stack);
});
beforeEach(async () => {
  await resetDb(db);
  receiver.reset();
});
// The stack's cache relay rebuilds from inventory_levels on another connection while its
// transaction holds cache_outbox rows: a TRUNCATE (resetDb) arriving in between waits on one
// and blocks the other until the relay's 60 s transaction timeout. Let it finish first.
afterEach(async () => {
  await eventually(
    async () => (await db.$queryRaw<{ n: number }[]>`SELECT count(*)::int AS n FROM cache_outbox`)[0].n,
    (n) => n === 0,
    10_000,
  );
});

interface Created {
  id: string;
  secret: string;
  cursor: string;
  status: string;
}

async function subscribe(path: string, filter: Record<string, unknown> = {}): Promise<Created> {
  const res = await app.inject({
    method: 'POST',
    url: '/admin/event-subscriptions',
    payload: { url: `${receiver.base}${path}`, ...filter },
  });
  expect(res.statusCode).toBe(201);
  return res.json<Created>();
}

/** A delivery whose clock is `clock.now` (starting now), retrying after 1 s, 1 s, 1 s, without jitter. */
function deliveryDeps(clock: { now: number }, retryScheduleMs = [1_000, 1_000, 1_000]): WebhookDeliveryDeps {
  return {
    db,
    send: sendWebhook,
    now: () => clock.now,
    random: () => 0.5,
    policy: { refusePrivate: false, allowedHosts: [] },
    timeoutMs: 3_000,
    retryScheduleMs,
  };
}

async function step(deps: WebhookDeliveryDeps, id: string): Promise<StepResult> {
  const sub = await leaseSubscription(db, id, 'test', 30_000);
  if (!sub) throw new Error(`subscription ${id} is not ACTIVE`);
  return deliverStep(deps, sub);
}

/** Steps until the subscription has nothing due now. */
async function drain(deps: WebhookDeliveryDeps, id: string): Promise<void> {
  for (let guard = 0; guard < 50; guard++) {
    const r = await step(deps, id);
    if ('stop' in r || r.waitMs > 0) return;
  }
}

const ids = (received: Received[]) => received.map((r) => r.headers['webhook-id']);
const stored = async () =>
  db.$queryRaw<{ event_id: string; type: string; sku: string | null; warehouse_code: string | null; body: string }[]>`
    SELECT event_id, type, sku, warehouse_code, event::text AS body FROM event_outbox WHERE position IS NOT NULL ORDER BY position`;
const subscription = async (id: string) =>
  (await app.inject({ method: 'GET', url: `/admin/event-subscriptions/${id}` })).json<
    Created & { disabledReason: string | null }
  >();
const deliveries = async (id: string, status?: string) =>
  (
    await app.inject({
      method: 'GET',
      url: `/admin/event-subscriptions/${id}/deliveries${status ? `?status=${status}` : ''}`,
    })
  ).json<{
    deliveries: {
      position: string;
      status: string;
      attempts: number;
      lastStatus: number | null;
      lastError: string | null;
      nextAttemptAt: string | null;
    }[];
  }>().deliveries;

it('manages subscriptions by route: the secret is shown once, bad input is a 400, unknown ids 404', async () => {
  const created = await subscribe('/a', { types: ['stock.*'], skus: ['A'] });
  expect(created).toMatchObject({
    id: expect.stringMatching(/^sub_[0-9a-f]{16}$/),
    secret: expect.stringMatching(/^whsec_/),
    status: 'ACTIVE',
    types: ['stock.*'],
  });
  const read = await app.inject({ method: 'GET', url: `/admin/event-subscriptions/${created.id}` });
  expect(read.statusCode).toBe(200);
  expect(read.body).not.toContain(created.secret);
  expect(
    (await app.inject({ method: 'GET', url: '/admin/event-subscriptions' })).json<{ subscriptions: unknown[] }>()
      .subscriptions,
  ).toHaveLength(1);
  const patched = await app.inject({
    method: 'PATCH',
    url: `/admin/event-subscriptions/${created.id}`,
    payload: { enabled: false, warehouses: ['W1'] },
  });
  expect(patched.json()).toMatchObject({ status: 'DISABLED', disabledReason: 'MANUAL', warehouses: ['W1'] });
  for (const [payload, what] of [
    [{ url: 'ftp://x.example/' }, 'a URL that is not http'],
    [{ url: `${receiver.base}/a`, types: ['shipping.left'] }, 'an unknown type family'],
    [{ url: `${receiver.base}/a`, secret: 'mine' }, 'an unknown field'],
  ] as const) {
    const res = await app.inject({ method: 'POST', url: '/admin/event-subscriptions', payload });
    expect([what, res.statusCode, res.json<{ code: string }>().code]).toEqual([what, 400, 'VALIDATION_FAILED']);
  }
  expect((await app.inject({ method: 'DELETE', url: `/admin/event-subscriptions/${created.id}` })).statusCode).toBe(
    204,
  );
  expect((await app.inject({ method: 'GET', url: `/admin/event-subscriptions/${created.id}` })).statusCode).toBe(404);
});

it('sends each event as stored, signed: standardwebhooks verifies it; a tampered body or a stale timestamp does not', async () => {
  const { id, secret } = await subscribe('/hook');
  await stock(db, 'A', 'W1', 2);
  await assignAll(db);
  const metrics = createMetrics('worker');
  await drain({ ...deliveryDeps({ now: Date.now() }), observer: metricsObserver(metrics) }, id);
  const events = await stored();
  expect(ids(receiver.on('/hook'))).toEqual(events.map((e) => e.event_id));
  const hook = new Webhook(secret);
  for (const [i, r] of receiver.on('/hook').entries()) {
    expect(r.body).toBe(events[i].body);
    expect(hook.verify(r.body, r.headers)).toMatchObject({ id: events[i].event_id });
    expect(() => hook.verify(r.body.replace('"A"', '"B"'), r.headers)).toThrow(/No matching signature/);
    expect(() =>
      hook.verify(r.body, { ...r.headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 600) }),
    ).toThrow();
  }
  expect((await subscription(id)).cursor).toBe(String(events.length));
  const text = await metrics.registry.metrics();
  expect(text).toContain(
    `stockhold_event_webhook_attempts_total{subscription="${id}",outcome="delivered",process="worker"} 2`,
  );
  expect(text).toContain(`stockhold_event_webhook_backlog{subscription="${id}",process="worker"} 0`);
});

it('rotation: during the overlap the old and the new secret verify; after it the new one alone', async () => {
  const { id, secret: first } = await subscribe('/rot');
  const rotated = await app.inject({
    method: 'POST',
    url: `/admin/event-subscriptions/${id}/rotate`,
    payload: { overlapSeconds: 3600 },
  });
  const second = rotated.json<{ secret: string; previousSecretExpiresAt: string }>();
  expect(second.secret).not.toBe(first);
  expect(second.previousSecretExpiresAt).not.toBeNull();
  await stock(db, 'A', 'W1', 1);
  await assignAll(db);
  await drain(deliveryDeps({ now: Date.now() }), id);
  const [during] = receiver.on('/rot');
  expect(new Webhook(second.secret).verify(during.body, during.headers)).toBeTruthy();
  expect(new Webhook(first).verify(during.body, during.headers)).toBeTruthy();

  const third = (
    await app.inject({ method: 'POST', url: `/admin/event-subscriptions/${id}/rotate`, payload: { overlapSeconds: 0 } })
  ).json<{
    secret: string;
  }>().secret;
  receiver.reset();
  await stock(db, 'B', 'W1', 1);
  await assignAll(db);
  await drain(deliveryDeps({ now: Date.now() + 1 }), id);
  const [after] = receiver.on('/rot');
  expect(after.headers['webhook-signature'].split(' ')).toHaveLength(1);
  expect(new Webhook(third).verify(after.body, after.headers)).toBeTruthy();
  expect(() => new Webhook(second.secret).verify(after.body, after.headers)).toThrow(/No matching signature/);
});

it('500, 500, 200: delivered on the third attempt, after its backoffs, and nothing after it is sent first', async () => {
  const { id } = await subscribe('/flaky');
  receiver.script('/flaky', [{ status: 500 }, { status: 500 }, { status: 200 }]);
  await stock(db, 'A', 'W1', 2); // stock.changed + stock.back_in_stock
  await assignAll(db);
  const clock = { now: Date.now() };
  const deps = deliveryDeps(clock);
  expect(await step(deps, id)).toEqual({ waitMs: 1_000 });
  expect(await step(deps, id)).toEqual({ waitMs: 1_000 }); // not due yet: nothing sent
  expect(receiver.on('/flaky')).toHaveLength(1);
  clock.now += 1_000;
  expect(await step(deps, id)).toEqual({ waitMs: 1_000 });
  clock.now += 1_000;
  await drain(deps, id);
  const [first, second] = await stored();
  expect(ids(receiver.on('/flaky'))).toEqual([first.event_id, first.event_id, first.event_id, second.event_id]);
  expect(await deliveries(id)).toEqual([
    expect.objectContaining({ position: '1', status: 'DELIVERED', attempts: 3, lastStatus: 200 }),
  ]);
  expect((await subscription(id)).cursor).toBe('2');
});

it('429 with Retry-After: the next attempt waits exactly that long', async () => {
  const { id } = await subscribe('/busy');
  receiver.script('/busy', [{ status: 429, headers: { 'retry-after': '120' } }, { status: 204 }]);
  await stock(db, 'A', 'W1', 1);
  await assignAll(db);
  const clock = { now: Date.now() };
  const deps = deliveryDeps(clock);
  expect(await step(deps, id)).toEqual({ waitMs: 120_000 });
  expect((await deliveries(id))[0]).toMatchObject({
    status: 'RETRYING',
    lastStatus: 429,
    nextAttemptAt: new Date(clock.now + 120_000).toISOString(),
  });
  clock.now += 119_000;
  expect(await step(deps, id)).toEqual({ waitMs: 1_000 });
  expect(receiver.on('/busy')).toHaveLength(1);
  clock.now += 1_000;
  await drain(deps, id);
  expect(receiver.on('/busy')).toHaveLength(3); // the retry, then the back_in_stock
  expect((await deliveries(id))[0]).toMatchObject({ status: 'DELIVERED', attempts: 2 });
});

it('a 302 is not followed: the attempt failed and is retried', async () => {
  const { id } = await subscribe('/moved');
  receiver.script('/moved', [{ status: 302, headers: { location: `${receiver.base}/elsewhere` } }]);
  await stock(db, 'A', 'W1', 1);
  await assignAll(db);
  expect(await step(deliveryDeps({ now: Date.now() }), id)).toEqual({ waitMs: 1_000 });
  expect(receiver.on('/moved')).toHaveLength(1);
  expect(receiver.on('/elsewhere')).toHaveLength(0);
  expect((await deliveries(id))[0]).toMatchObject({ status: 'RETRYING', lastStatus: 302 });
});

it('410 disables the subscription and raises a WEBHOOK_DISABLED alert', async () => {
  const { id } = await subscribe('/gone');
  receiver.script('/gone', [{ status: 410 }]);
  await stock(db, 'A', 'W1', 1);
  await assignAll(db);
  expect(await step(deliveryDeps({ now: Date.now() }), id)).toEqual({ stop: true });
  expect(await subscription(id)).toMatchObject({ status: 'DISABLED', disabledReason: 'GONE' });
  expect((await deliveries(id, 'DEAD')).map((d) => d.lastStatus)).toEqual([410]);
  const alerts = (await app.inject({ method: 'GET', url: '/alerts?kind=WEBHOOK_DISABLED' })).json<{
    alerts: { details: Record<string, unknown> }[];
  }>().alerts;
  expect(alerts.map((a) => a.details)).toEqual([
    expect.objectContaining({ subscriptionId: id, reason: 'GONE', lastStatus: 410 }),
  ]);
  expect(await leaseSubscription(db, id, 'test', 1_000)).toBeUndefined();
});

it('DEAD after the retries: disabled and alerted, listed, retried by route → DELIVERED; re-enabled and replayed', async () => {
  const { id } = await subscribe('/down');
  receiver.script('/down', [{ status: 500 }]);
  await stock(db, 'A', 'W1', 1);
  await assignAll(db);
  const clock = { now: Date.now() };
  const deps = deliveryDeps(clock, [1_000]);
  expect(await step(deps, id)).toEqual({ waitMs: 1_000 });
  clock.now += 1_000;
  expect(await step(deps, id)).toEqual({ stop: true });
  expect(await subscription(id)).toMatchObject({ status: 'DISABLED', disabledReason: 'FAILING' });
  expect(await db.stockAlert.count({ where: { kind: 'WEBHOOK_DISABLED' } })).toBe(1);
  expect(await deliveries(id, 'DEAD')).toEqual([
    expect.objectContaining({ position: '1', attempts: 2, lastStatus: 500 }),
  ]);

  receiver.script('/down', [{ status: 204 }]);
  const retried = await app.inject({ method: 'POST', url: `/admin/event-subscriptions/${id}/deliveries/1/retry` });
  expect(retried.statusCode).toBe(200);
  expect(retried.json()).toMatchObject({ position: '1', status: 'DELIVERED', attempts: 3, lastStatus: 204 });
  expect(await deliveries(id, 'DEAD')).toEqual([]);
  expect(
    (await app.inject({ method: 'POST', url: `/admin/event-subscriptions/${id}/deliveries/99/retry` })).statusCode,
  ).toBe(404);

  // Back on, from the start: everything after position 0 comes again, in order.
  await app.inject({ method: 'PATCH', url: `/admin/event-subscriptions/${id}`, payload: { enabled: true } });
  expect(
    (
      await app.inject({ method: 'POST', url: `/admin/event-subscriptions/${id}/replay`, payload: { after: '0' } })
    ).json(),
  ).toMatchObject({ cursor: '0' });
  receiver.reset();
  await drain(deliveryDeps({ now: Date.now() }), id);
  expect(ids(receiver.on('/down'))).toEqual((await stored()).map((e) => e.event_id));
});

it("a subscription's filter (types stock.*, skus, warehouses) selects exactly its events", async () => {
  const filters = {
    '/family': { types: ['stock.*'] },
    '/sku': { skus: ['A'] },
    '/wh': { warehouses: ['W2'], types: ['stock.back_in_stock'] },
    '/orders': { types: ['order.held', 'alert.*'] },
  };
  const subs = await Promise.all(
    Object.entries(filters).map(async ([path, f]) => [path, (await subscribe(path, f)).id] as const),
  );
  await stock(db, 'A', 'W1', 1);
  await stock(db, 'B', 'W2', 1);
  await stock(db, 'A', 'W2', 1);
  await assignAll(db);
  for (const [, id] of subs) await drain(deliveryDeps({ now: Date.now() }), id);
  const events = await stored();
  for (const [path, f] of Object.entries(filters) as [
    string,
    { types?: string[]; skus?: string[]; warehouses?: string[] },
  ][]) {
    const expected = events.filter(
      (e) =>
        typeSelected(f.types ?? [], e.type) &&
        (!f.skus || f.skus.includes(e.sku ?? '')) &&
        (!f.warehouses || f.warehouses.includes(e.warehouse_code ?? '')),
    );
    expect([path, ids(receiver.on(path))]).toEqual([path, expected.map((e) => e.event_id)]);
  }
  expect(receiver.on('/wh')).toHaveLength(2);
  expect(receiver.on('/orders')).toHaveLength(0);
});

it('a slow receiver does not delay another: each subscription has its own loop', async () => {
  const slow = await subscribe('/slow');
  const fast = await subscribe('/fast');
  receiver.script('/slow', [{ status: 204, delayMs: 1_500 }]);
  await stock(db, 'A', 'W1', 1);
  await stock(db, 'B', 'W1', 1);
  await assignAll(db);
  const dispatcher = new WebhookDispatcher(
    { ...deliveryDeps({ now: 0 }), now: Date.now },
    { pollMs: 50, leaseMs: 30_000 },
  ).start();
  try {
    const started = Date.now();
    await eventually(
      async () => receiver.on('/fast').length,
      (n) => n === 4,
      5_000,
    );
    // All four reached the fast receiver while the slow one still sat on its first.
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(receiver.on('/slow')).toHaveLength(1);
  } finally {
    await dispatcher.stop();
  }
  expect((await subscription(fast.id)).cursor).toBe('4');
  expect((await subscription(slow.id)).cursor).toBe('1');
});

it('in production a URL resolving to a private address is refused at send time too: nothing leaves, the attempt is retried', async () => {
  const { id } = await subscribe('/private');
  await stock(db, 'A', 'W1', 1);
  await assignAll(db);
  const production = { ...deliveryDeps({ now: Date.now() }), policy: { refusePrivate: true, allowedHosts: [] } };
  expect(await step(production, id)).toEqual({ waitMs: 1_000 });
  expect(receiver.on('/private')).toHaveLength(0);
  expect((await deliveries(id))[0]).toMatchObject({
    status: 'RETRYING',
    lastStatus: null,
    lastError: expect.stringMatching(/^refused: 127.0.0.1 resolves to a private address/),
  });
  // A host named in WEBHOOK_ALLOWED_HOSTS goes through.
  await drain(
    { ...production, policy: { refusePrivate: true, allowedHosts: ['127.0.0.1'] }, now: () => Date.now() + 1_000 },
    id,
  );
  expect(receiver.on('/private')).toHaveLength(2);
});
