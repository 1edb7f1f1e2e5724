/**
 * The request path on the real stack: PostgreSQL decides and the API answers; the hold
 * commits with its saga's outbox row; Temporal closes. A refusal starts nothing; a payment or
 * cancel that overtakes the saga's start starts it with the signal; a burst on a flash sale
 * with its gate's Redis killed mid-way leaves no hold without a saga and no 503 holding stock.
 */
import type { FastifyInstance } from 'fastify';
import { relaySagaStarts } from '../../use-cases/order-sagas';
import type { Db } from '../../data/db';
import { orderWorkflowId } from '../../workflows/ids';
import type { OrderState } from '../../domain/order-saga';
import { eventually, signedPayment, useAppStack } from '../helpers/app';
import { invariantViolations, level, stock } from '../helpers/db';
import { startOwnRedis, type OwnRedis } from '../helpers/redis-server';

const TASK_QUEUE = 'request-path-test';
const ADMIN = { authorization: 'Bearer test-admin-token' };
const SECRET = 'test-webhook-secret';

// The API's Redis (cache and gate) is a private redis-server this file can kill; and the API
// holds back its saga starts, so what happens before a saga starts can be seen.
let ownRedis: OwnRedis;
beforeAll(async () => {
  ownRedis = await startOwnRedis();
});
afterAll(async () => {
  await ownRedis?.kill();
});
const stack = useAppStack('dev', TASK_QUEUE, () => ({ REDIS_URL: ownRedis.url, SAGA_START_DELAY_MS: '600000' }));
let db: Db;
let app: FastifyInstance;
beforeAll(async () => {
  ({ db, app } = stack);
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const order = (orderId: string, sku: string, quantity = 1) =>
  app.inject({
    method: 'POST',
    url: '/orders',
    payload: { orderId, userId: 'u1', lines: [{ sku, warehouseCode: 'W1', quantity }] },
  });
const pay = (orderId: string) => {
  const signed = signedPayment(SECRET, {
    eventId: `ev-${orderId}`,
    type: 'payment.succeeded',
    orderId,
    paymentId: `pay-${orderId}`,
    amountCents: 100,
  });
  return app.inject({ method: 'POST', url: '/webhooks/payments', payload: signed.payload, headers: signed.headers });
};
const handle = (orderId: string) => stack.env.client.workflow.getHandle(orderWorkflowId(orderId));
const sagaExists = (orderId: string) =>
  handle(orderId)
    .describe()
    .then(
      () => true,
      () => false,
    );
const relay = () => relaySagaStarts(db, stack.env.client, TASK_QUEUE, { graceMs: 0, intervalMs: 0, batch: 500 });

it('a hold answers from PostgreSQL before its saga runs; a refusal starts no saga at all', async () => {
  await stock(db, 'RP', 'W1', 3);
  const held = await order('rp-1', 'RP', 2);
  expect(held.statusCode).toBe(201);
  expect(await level(db, 'RP', 'W1')).toEqual({ onHand: 3, reserved: 2 });
  expect(await sagaExists('rp-1')).toBe(false);
  expect(await db.sagaStart.findUnique({ where: { orderId: 'rp-1' } })).toMatchObject({ startedAt: null });
  expect((await app.inject({ method: 'GET', url: '/orders/rp-1' })).json()).toMatchObject({
    status: 'AWAITING_PAYMENT',
    userId: 'u1',
  });
  // The same order again: the same answer, no second hold; another order on the same id: 409.
  expect((await order('rp-1', 'RP', 2)).json()).toEqual(held.json());
  expect((await order('rp-1', 'RP', 1)).json()).toMatchObject({ code: 'ORDER_CONFLICT' });

  const refused = await order('rp-2', 'RP', 5);
  expect(refused.json()).toMatchObject({ code: 'INSUFFICIENT_STOCK' });
  expect(await db.sagaStart.count({ where: { orderId: 'rp-2' } })).toBe(0);
  // A minute on, reconciliation reports the hold whose saga has not started.
  await db.sagaStart.update({ where: { orderId: 'rp-1' }, data: { createdAt: new Date(Date.now() - 120_000) } });
  const report = (await app.inject({ method: 'POST', url: '/admin/reconciliation', headers: ADMIN })).json();
  expect(report).toMatchObject({ clean: false, unstartedSagas: [{ orderId: 'rp-1' }] });
  // The relay starts what the API did not: the first order's saga, and nothing for the refusal.
  await relay();
  expect((await app.inject({ method: 'POST', url: '/admin/reconciliation', headers: ADMIN })).json()).toMatchObject({
    clean: true,
    unstartedSagas: [],
  });
  expect(await sagaExists('rp-1')).toBe(true);
  expect(await sagaExists('rp-2')).toBe(false);
  await app.inject({ method: 'POST', url: '/orders/rp-1/cancel' });
  expect(((await handle('rp-1').result()) as OrderState).status).toBe('RELEASED');
});

it('a payment and a cancel that overtake the saga start are settled and released (signal-with-start)', async () => {
  await stock(db, 'EARLY', 'W1', 5);
  expect((await order('early-paid', 'EARLY')).statusCode).toBe(201);
  expect((await order('early-cancelled', 'EARLY')).statusCode).toBe(201);
  expect(await sagaExists('early-paid')).toBe(false);

  expect((await pay('early-paid')).json()).toMatchObject({ result: 'ACCEPTED' });
  expect((await app.inject({ method: 'POST', url: '/orders/early-cancelled/cancel' })).statusCode).toBe(202);
  expect(((await handle('early-paid').result()) as OrderState).status).toBe('CONFIRMED');
  expect(((await handle('early-cancelled').result()) as OrderState).status).toBe('RELEASED');
  expect(await db.payment.findMany({ where: { orderId: 'early-paid' }, select: { state: true } })).toEqual([
    { state: 'CONFIRMED' },
  ]);
  expect(await level(db, 'EARLY', 'W1')).toEqual({ onHand: 4, reserved: 0 });
  // Both outbox rows are marked: the relay will not start them again.
  expect(
    await db.sagaStart.count({ where: { orderId: { in: ['early-paid', 'early-cancelled'] }, startedAt: null } }),
  ).toBe(0);
});

async function campaign(id: string, quota: number) {
  const res = await app.inject({
    method: 'POST',
    url: '/admin/campaigns',
    headers: ADMIN,
    payload: {
      id,
      sku: 'BURST',
      warehouseCode: 'W1',
      startsAt: new Date(Date.now() - 1000).toISOString(),
      endsAt: new Date(Date.now() + 3600_000).toISOString(),
      quota,
      perUserLimit: 1,
    },
  });
  expect(res.statusCode).toBe(201);
}
const flash = (campaignId: string, i: number) =>
  app.inject({
    method: 'POST',
    url: `/campaigns/${campaignId}/orders`,
    payload: { orderId: `${campaignId}-${i}`, userId: `shopper-${i}`, quantity: 1 },
  });

it('2,000 concurrent attempts on 100 units → exactly 100 holds, each with its saga started and closed', async () => {
  await stock(db, 'BURST', 'W1', 1000);
  await campaign('burst', 100);
  const answers = await Promise.all(Array.from({ length: 2000 }, (_, i) => flash('burst', i)));
  const won = answers.flatMap((a, i) => (a.statusCode === 201 ? [`burst-${i}`] : []));
  expect(won).toHaveLength(100);
  expect(answers.filter((a) => a.statusCode !== 201).every((a) => a.json().code === 'SOLD_OUT')).toBe(true);
  expect(await db.reservation.count({ where: { campaignId: 'burst', status: 'RESERVED' } })).toBe(100);
  expect(await db.sagaStart.count({ where: { orderId: { in: won } } })).toBe(100);
  await relay();
  // Every saga closes: half paid, half cancelled.
  await Promise.all(
    won.map((id, k) => (k % 2 ? app.inject({ method: 'POST', url: `/orders/${id}/cancel` }) : pay(id))),
  );
  const ends = await Promise.all(won.map(async (id) => ((await handle(id).result()) as OrderState).status));
  expect(ends.filter((s) => s === 'CONFIRMED')).toHaveLength(50);
  expect(ends.filter((s) => s === 'RELEASED')).toHaveLength(50);
  expect(await db.payment.count({ where: { orderId: { in: won }, state: 'CONFIRMED' } })).toBe(50);
});

it('Redis killed during a burst: no hold without a saga, and no 503 that holds stock', async () => {
  await campaign('dark', 150);
  const attempts = Array.from({ length: 600 }, (_, i) => i);
  const burst = Promise.all(attempts.map((i) => flash('dark', i)));
  await new Promise((r) => setTimeout(r, 50));
  await ownRedis.kill();
  const answers = await burst;
  await ownRedis.start();
  const byCode = (code: number) => attempts.filter((i) => answers[i].statusCode === code).map((i) => `dark-${i}`);
  const [held, unavailable] = [byCode(201), byCode(503)];
  expect(held.length + byCode(409).length + unavailable.length).toBe(600);
  expect(held.length).toBeLessThanOrEqual(150);
  // Every hold has its saga's outbox row (same transaction); every 503 holds nothing.
  const holds = await db.reservation.findMany({ where: { campaignId: 'dark' }, select: { id: true } });
  expect(holds.map((h) => h.id).sort()).toEqual([...held].sort());
  expect(await db.sagaStart.count({ where: { orderId: { in: held } } })).toBe(held.length);
  expect(await db.reservation.count({ where: { id: { in: unavailable } } })).toBe(0);
  await relay();
  for (const id of held) expect(await sagaExists(id)).toBe(true);
  await Promise.all(held.map((id) => app.inject({ method: 'POST', url: `/orders/${id}/cancel` })));
  await eventually(
    () => db.reservation.count({ where: { campaignId: 'dark', status: 'RESERVED' } }),
    (n) => n === 0,
  );
});
