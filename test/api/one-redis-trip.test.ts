/**
 * A flash-sale order costs one Redis command: the gate's admission step spends the order
 * limits too (issue 21). Counted with MONITOR on a private redis-server that only this file's
 * API uses, so every command it sees was sent by the API: one EVALSHA for a winner, a
 * refusal and an order past its limit alike, and nothing else on Redis before PostgreSQL.
 */
import type { FastifyInstance } from 'fastify';
import Redis from 'ioredis';
import type { Db } from '../../data/db';
import { gateKeys } from '../../data/gate';
import { useAppStack } from '../helpers/app';
import { invariantViolations, stock } from '../helpers/db';
import { startOwnRedis, type OwnRedis } from '../helpers/redis-server';

const ADMIN = { authorization: 'Bearer test-admin-token' };

let ownRedis: OwnRedis;
beforeAll(async () => {
  ownRedis = await startOwnRedis();
});
afterAll(async () => {
  await ownRedis?.kill();
});
// A user may place 2 orders a minute; saga starts are held back (they use Temporal, not Redis).
const stack = useAppStack('dev', 'one-redis-trip-test', () => ({
  REDIS_URL: ownRedis.url,
  ORDER_RATE_LIMIT_PER_MINUTE: '2',
  SAGA_START_DELAY_MS: '600000',
}));
let db: Db;
let app: FastifyInstance;
const clients: Redis[] = [];
let seen: string[][] = [];
let marker = 0;

beforeAll(async () => {
  ({ db, app } = stack);
  const base = new Redis(ownRedis.url);
  const monitor = await base.monitor();
  clients.push(base, monitor);
  // The commands a script runs are shown too, from source `lua`: they are not round trips.
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (source !== 'lua') seen.push(args);
  });
});
afterAll(() => {
  for (const c of clients) c.disconnect();
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

/**
 * Every Redis command the API sent while `work` ran: a marker sent afterwards on another
 * connection is seen once Redis has run everything sent before it.
 */
async function commandsOf(work: () => Promise<unknown>): Promise<string[][]> {
  const probe = new Redis(ownRedis.url);
  clients.push(probe);
  await probe.ping();
  seen = [];
  await work();
  const mark = `end-of-request-${(marker += 1)}`;
  await probe.echo(mark);
  const deadline = Date.now() + 10_000;
  while (!seen.some((args) => args[0].toLowerCase() === 'echo' && args[1] === mark)) {
    if (Date.now() > deadline) throw new Error(`MONITOR never showed ${mark}; saw ${JSON.stringify(seen)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const during = seen.slice(
    0,
    seen.findIndex((args) => args[1] === mark),
  );
  return during.filter((args) => !['ping', 'echo'].includes(args[0].toLowerCase()));
}

const flash = (campaign: string, orderId: string, userId: string) =>
  app.inject({ method: 'POST', url: `/campaigns/${campaign}/orders`, payload: { orderId, userId, quantity: 1 } });

it('one EVALSHA per flash order: admitted, refused by the gate, or past an order limit', async () => {
  await stock(db, 'FIG', 'W1', 10);
  const campaign = (id: string, quota: number) =>
    app.inject({
      method: 'POST',
      url: '/admin/campaigns',
      headers: ADMIN,
      payload: {
        id,
        sku: 'FIG',
        warehouseCode: 'W1',
        startsAt: new Date(Date.now() - 1000).toISOString(),
        endsAt: new Date(Date.now() + 3600_000).toISOString(),
        quota,
        perUserLimit: 5,
      },
    });
  expect((await campaign('c-trip', 5)).statusCode).toBe(201);
  expect((await campaign('c-none', 1)).statusCode).toBe(201);
  // Warm-up: the first call of a script on a connection may be EVAL (after a NOSCRIPT), and
  // the gate is loaded from PostgreSQL once.
  expect((await flash('c-none', 'trip-0', 'warm')).statusCode).toBe(201);

  const gateCall = (args: string[], campaign: string) =>
    args[0].toLowerCase() === 'evalsha' && args.includes(gateKeys(campaign)[0]);
  const cases: [string, () => Promise<{ statusCode: number; json: () => { code?: string } }>, number, string?][] = [
    ['a winner', () => flash('c-trip', 'trip-1', 'ann'), 201],
    ['a second winner of the same user', () => flash('c-trip', 'trip-2', 'ann'), 201],
    ['an order past the user limit', () => flash('c-trip', 'trip-3', 'ann'), 429, 'RATE_LIMITED'],
    ['a refusal by the gate', () => flash('c-none', 'trip-4', 'bob'), 409, 'SOLD_OUT'],
  ];
  for (const [what, send, status, code] of cases) {
    let res: Awaited<ReturnType<typeof send>> | undefined;
    const commands = await commandsOf(async () => {
      res = await send();
    });
    expect([what, res!.statusCode, res!.json().code]).toEqual([what, status, code]);
    const campaignId = what === 'a refusal by the gate' ? 'c-none' : 'c-trip';
    expect([what, commands.length, gateCall(commands[0] ?? [], campaignId)]).toEqual([what, 1, true]);
  }
  // The limits were spent in Redis, shared by every replica: ann's two admitted orders and
  // her refused one; bob's sold-out attempt spent nothing.
  const probe = new Redis(ownRedis.url);
  clients.push(probe);
  expect(Number(await probe.get('stockhold:rate:user:bootstrap:ann'))).toBe(3);
  expect(await probe.get('stockhold:rate:user:bootstrap:bob')).toBeNull();
  // The order past the limit took no token: 5 - 2 admitted.
  expect(Number(await probe.get(gateKeys('c-trip')[1]))).toBe(3);
});
