/**
 * The request path's edges on the real stack (issue 16): one order id raced by two API
 * processes with different bodies (item 5), a gate token after a failure past admission
 * (item 7), and a flash sale while its Redis is killed (item 9) — PostgreSQL answers, a
 * sold-out pool is SOLD_OUT, and 503 means PostgreSQL did not answer in time.
 */
import type { FastifyInstance } from 'fastify';
import { Client } from 'pg';
import type { Db } from '../../data/db';
import { eventually, testApp, useAppStack } from '../helpers/app';
import { invariantViolations, level, stock } from '../helpers/db';
import { TEST_DATABASE_URL } from '../helpers/env';
import { startOwnRedis, type OwnRedis } from '../helpers/redis-server';

const TASK_QUEUE = 'hold-edges-test';
const ADMIN = { authorization: 'Bearer test-admin-token' };

// A private redis-server this file kills; sagas held back (only the request path is under
// test); no periodic gate check, so only the request path moves the gate's tokens.
let ownRedis: OwnRedis;
beforeAll(async () => {
  ownRedis = await startOwnRedis();
});
afterAll(async () => {
  await ownRedis?.kill();
});
const settings = () => ({
  TEMPORAL_TASK_QUEUE: TASK_QUEUE,
  REDIS_URL: ownRedis.url,
  SAGA_START_DELAY_MS: '600000',
  CAMPAIGN_GATE_CHECK_SECONDS: '3600',
});
const stack = useAppStack('dev', TASK_QUEUE, settings);
let db: Db;
let app: FastifyInstance;
/** A second API process on the same PostgreSQL and Redis (its own hold batches). */
let other: FastifyInstance;
beforeAll(async () => {
  ({ db, app } = stack);
  ({ app: other } = await testApp(stack.env, db, settings()));
});
afterAll(async () => {
  await other?.close();
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

async function campaign(id: string, sku: string, quota: number, perUserLimit = 1) {
  await stock(db, sku, 'W1', quota * 2);
  const res = await app.inject({
    method: 'POST',
    url: '/admin/campaigns',
    headers: ADMIN,
    payload: {
      id,
      sku,
      warehouseCode: 'W1',
      startsAt: new Date(Date.now() - 1000).toISOString(),
      endsAt: new Date(Date.now() + 3600_000).toISOString(),
      quota,
      perUserLimit,
    },
  });
  expect(res.statusCode).toBe(201);
}
const flash = (target: FastifyInstance, campaignId: string, orderId: string, userId: string, amountCents = 100) =>
  target.inject({
    method: 'POST',
    url: `/campaigns/${campaignId}/orders`,
    payload: { orderId, userId, quantity: 1, amountCents },
  });
const view = async (campaignId: string) =>
  (await app.inject({ method: 'GET', url: `/admin/campaigns/${campaignId}`, headers: ADMIN })).json();
const summary = (answers: { statusCode: number; json(): { code?: string } }[]) =>
  answers.reduce<Record<string, number>>((acc, r) => {
    const key = r.statusCode === 201 ? '201' : `${r.statusCode} ${r.json().code}`;
    acc[key] = (acc[key] ?? 0) + 1;
    return acc;
  }, {});

/** A transaction holding a campaign's pool row (FOR UPDATE) until `release()`; `waiters(n)`: until n backends wait on a lock. */
async function blockCampaign(campaignId: string) {
  const [client, watcher] = [
    new Client({ connectionString: TEST_DATABASE_URL }),
    new Client({ connectionString: TEST_DATABASE_URL }),
  ];
  await Promise.all([client.connect(), watcher.connect()]);
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM campaigns WHERE id = $1 FOR UPDATE', [campaignId]);
  return {
    release: async () => {
      await client.query('COMMIT');
      await Promise.all([client.end(), watcher.end()]);
    },
    waiters: async (n: number) => {
      const waiting = async () =>
        (
          await watcher.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          )
        ).rows[0].n;
      await eventually(waiting, (w) => w >= n, 2_000);
    },
  };
}

describe('item 5: one order id, two bodies, two API processes', () => {
  it('plain orders: one 201 and one 409 ORDER_CONFLICT, and the hold and its saga input are the 201 body', async () => {
    await stock(db, 'TWO', 'W1', 100);
    const body = (orderId: string, quantity: number, amountCents: number) => ({
      orderId,
      userId: 'ann',
      lines: [{ sku: 'TWO', warehouseCode: 'W1', quantity }],
      amountCents,
    });
    let units = 0;
    for (let k = 0; k < 10; k += 1) {
      // The same user and stock; only the price differs (or the quantity too, every other time).
      const bodies = [body(`two-${k}`, 1, 100), body(`two-${k}`, 1 + (k % 2), 999)];
      const answers = await Promise.all([
        app.inject({ method: 'POST', url: '/orders', payload: bodies[0] }),
        other.inject({ method: 'POST', url: '/orders', payload: bodies[1] }),
      ]);
      expect(answers.map((a) => a.statusCode).sort()).toEqual([201, 409]);
      const won = answers.findIndex((a) => a.statusCode === 201);
      expect(answers[1 - won].json().code).toBe('ORDER_CONFLICT');
      const hold = await db.reservation.findUniqueOrThrow({ where: { id: `two-${k}` }, include: { lines: true } });
      expect([hold.amountCents, hold.lines[0].quantity]).toEqual([
        bodies[won].amountCents,
        bodies[won].lines[0].quantity,
      ]);
      const saga = await db.sagaStart.findUniqueOrThrow({ where: { orderId: `two-${k}` } });
      expect(saga.input).toMatchObject({ order: { amountCents: bodies[won].amountCents, lines: bodies[won].lines } });
      units += bodies[won].lines[0].quantity;
      // Either process, asked again with the losing body: still 409; with the winning body: the same 201.
      expect((await other.inject({ method: 'POST', url: '/orders', payload: bodies[1 - won] })).statusCode).toBe(409);
      expect((await app.inject({ method: 'POST', url: '/orders', payload: bodies[won] })).json()).toEqual(
        answers[won].json(),
      );
    }
    expect(await level(db, 'TWO', 'W1')).toEqual({ onHand: 100, reserved: units });
  });

  it('flash orders: another user is refused by the gate, another price by PostgreSQL; neither takes a token', async () => {
    await campaign('race', 'RACE', 10, 1);
    for (let k = 0; k < 5; k += 1) {
      const answers = await Promise.all([
        flash(app, 'race', `race-${k}`, `ann-${k}`),
        flash(other, 'race', `race-${k}`, `bob-${k}`),
      ]);
      expect(summary(answers)).toEqual({ '201': 1, '409 ORDER_CONFLICT': 1 });
      const winner = answers[0].statusCode === 201 ? `ann-${k}` : `bob-${k}`;
      expect(await db.reservation.findUniqueOrThrow({ where: { id: `race-${k}` } })).toMatchObject({ userId: winner });
      // The winner's retry is a replay; the same user at another price is another order.
      expect((await flash(other, 'race', `race-${k}`, winner)).statusCode).toBe(201);
      expect((await flash(app, 'race', `race-${k}`, winner, 5)).json().code).toBe('ORDER_CONFLICT');
    }
    expect(await view('race')).toMatchObject({ remaining: 5, held: 5, gate: { tokens: 5 } });
  });
});

describe('item 7: a failure after admission', () => {
  it('gives the token back: the gate counts what PostgreSQL has left, and the shopper may order again', async () => {
    await campaign('tok', 'TOK', 10, 1);
    expect((await flash(app, 'tok', 'tok-1', 'amy')).statusCode).toBe(201);
    // Admitted by the gate, then the pool row stays locked past the batch's lock_timeout: 503.
    const blocker = await blockCampaign('tok');
    const failed = await flash(app, 'tok', 'tok-2', 'ben').finally(() => blocker.release());
    expect(failed.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(await db.reservation.count({ where: { id: 'tok-2' } })).toBe(0);
    expect(await view('tok')).toMatchObject({ remaining: 9, held: 1, gate: { tokens: 9 } });
    // Ben's count came back with the token (limit 1): his retry and a new order are both let in.
    expect((await flash(app, 'tok', 'tok-2', 'ben')).statusCode).toBe(201);
    expect(await view('tok')).toMatchObject({ remaining: 8, gate: { tokens: 8 } });
  });
});

describe('item 9: Redis down during a sale', () => {
  afterAll(async () => {
    if (ownRedis.pid() === undefined) await ownRedis.start();
  });

  it('PostgreSQL answers: exactly the pool held, the per-user limit kept, then SOLD_OUT — never 503', async () => {
    await campaign('dark', 'DARK', 20, 2);
    const lit = await Promise.all(Array.from({ length: 8 }, (_, i) => flash(app, 'dark', `lit-${i}`, `lit-${i}`)));
    expect(summary(lit)).toEqual({ '201': 8 });
    await ownRedis.kill();
    // 12 units left; 300 shoppers and one greedy user with 6 orders, on both API processes.
    const burst = await Promise.all([
      ...Array.from({ length: 300 }, (_, i) => flash(i % 2 ? app : other, 'dark', `dark-${i}`, `dark-${i}`)),
      ...Array.from({ length: 6 }, (_, i) => flash(app, 'dark', `greedy-${i}`, 'greedy')),
    ]);
    const codes = summary(burst);
    expect(codes['201']).toBe(12);
    expect(Object.keys(codes).every((k) => ['201', '409 SOLD_OUT', '409 LIMIT_REACHED'].includes(k))).toBe(true);
    expect(await db.reservation.count({ where: { campaignId: 'dark', userId: 'greedy' } })).toBeLessThanOrEqual(2);
    expect(await view('dark')).toMatchObject({ remaining: 0, held: 20 });
    // Sold out with the gate still down: every answer is PostgreSQL's SOLD_OUT.
    const late = await Promise.all(
      Array.from({ length: 300 }, (_, i) => flash(i % 2 ? app : other, 'dark', `late-${i}`, `late-${i}`)),
    );
    expect(summary(late)).toEqual({ '409 SOLD_OUT': 300 });
    // Redis back (empty): the gate is rebuilt from PostgreSQL and answers SOLD_OUT itself again.
    await ownRedis.start();
    await eventually(
      async () =>
        (await flash(app, 'dark', 'after', 'after')).json().code === 'SOLD_OUT' &&
        (await view('dark')).gate?.loaded === true,
      (ok) => ok,
    );
    expect(await view('dark')).toMatchObject({ remaining: 0, gate: { loaded: true, tokens: 0 } });
  });

  it('503 only when PostgreSQL does not answer: a hold still queued past the deadline is withdrawn, one in a batch waits for lock_timeout; nothing held', async () => {
    await campaign('stuck', 'STUCK', 6, 1);
    const impatient = (await testApp(stack.env, db, { ...settings(), FLASH_DB_PATH_DEADLINE_MS: '300' })).app;
    await ownRedis.kill();
    const blocker = await blockCampaign('stuck');
    try {
      // Two batches in flight (HOLD_BATCHES_IN_FLIGHT 2), both waiting on the pool row...
      const inBatches = [flash(impatient, 'stuck', 'stuck-0', 'stuck-0')];
      await blocker.waiters(1);
      inBatches.push(flash(impatient, 'stuck', 'stuck-1', 'stuck-1'));
      await blocker.waiters(2);
      // ...so these queue behind them, and are withdrawn at the deadline.
      const queued = await Promise.all(
        Array.from({ length: 4 }, (_, i) => flash(impatient, 'stuck', `stuck-${i + 2}`, `stuck-${i + 2}`)),
      );
      expect(summary(queued)).toEqual({ '503 SERVICE_UNAVAILABLE': 4 });
      expect(queued.every((a) => a.json().message.includes('did not take this order within 300 ms'))).toBe(true);
      const batched = await Promise.all(inBatches);
      expect(summary(batched)).toEqual({ '503 SERVICE_UNAVAILABLE': 2 });
      expect(batched.every((a) => a.json().message.includes('the hold could not be taken right now'))).toBe(true);
    } finally {
      await blocker.release();
    }
    expect(await db.reservation.count({ where: { campaignId: 'stuck' } })).toBe(0);
    expect(await db.operationFence.count({ where: { serial: { startsWith: 'stuck-' } } })).toBe(0);
    // PostgreSQL answers again: the same orders are held.
    const retried = await Promise.all(
      Array.from({ length: 6 }, (_, i) => flash(impatient, 'stuck', `stuck-${i}`, `stuck-${i}`)),
    );
    expect(summary(retried)).toEqual({ '201': 6 });
    await impatient.close();
  });
});
