/**
 * The order limits' store, on a private redis-server this test starts and kills: two limiters
 * (two API processes) share one budget through Redis; with Redis dead each counts in its own
 * memory (the limits relax to one budget per process, never to none), and the shared count
 * takes over again once Redis is back.
 */
import Redis from 'ioredis';
import { CircuitBreaker } from '../../platform/breaker';
import { RateLimiter, type Bucket } from '../../platform/rate-limit';
import { createRedis } from '../../platform/redis';
import { eventually } from '../helpers/app';
import { startOwnRedis, type OwnRedis } from '../helpers/redis-server';

let redis: OwnRedis;
const connections: Redis[] = [];

beforeAll(async () => {
  redis = await startOwnRedis();
});
afterAll(async () => {
  for (const c of connections) c.disconnect();
  await redis?.kill();
});

function limiter(): RateLimiter {
  const connection = createRedis(redis.url, { connectTimeoutMs: 500, commandTimeoutMs: 250, autoPipelining: true });
  connections.push(connection);
  return new RateLimiter(connection, new CircuitBreaker({ failures: 2, cooldownMs: 200 }));
}
const buckets = (user: string): Bucket[] => [
  { kind: 'key', id: 'shop', limit: 1000 },
  { kind: 'user', id: user, limit: 5 },
];
const ready = (l: RateLimiter) =>
  eventually(
    () => l.check(buckets('warm-up')),
    (v) => v.store === 'redis',
    10_000,
  );

it('two processes share one budget per user; the refusal says which and for how long', async () => {
  const [a, b] = [limiter(), limiter()];
  await Promise.all([ready(a), ready(b)]);
  const verdicts = [];
  for (let i = 0; i < 8; i += 1) verdicts.push(await (i % 2 ? b : a).check(buckets('alice')));
  expect(verdicts.map((v) => v.allowed)).toEqual([true, true, true, true, true, false, false, false]);
  const refused = verdicts[5];
  expect(refused).toMatchObject({ allowed: false, store: 'redis', bucket: 'user' });
  expect(refused.allowed === false && refused.retryAfterMs > 0 && refused.retryAfterMs <= 60_000).toBe(true);
  // Another user is not limited; the key's budget counts every one of them.
  expect((await a.check(buckets('bob'))).allowed).toBe(true);
  const probe = new Redis(redis.url);
  connections.push(probe);
  // 8 for alice, 1 for bob, 2 warm-ups: refused requests count too (a caller that keeps sending stays refused).
  expect(Number(await probe.get('stockhold:rate:key:shop'))).toBe(8 + 1 + 2);
});

it('the key budget is shared too', async () => {
  const [a, b] = [limiter(), limiter()];
  await Promise.all([ready(a), ready(b)]);
  const small = (user: string): Bucket[] => [
    { kind: 'key', id: 'small-shop', limit: 4 },
    { kind: 'user', id: user, limit: 100 },
  ];
  const verdicts = [];
  for (let i = 0; i < 6; i += 1) verdicts.push(await (i % 2 ? b : a).check(small(`user-${i}`)));
  expect(verdicts.map((v) => (v.allowed ? 'ok' : v.bucket))).toEqual(['ok', 'ok', 'ok', 'ok', 'key', 'key']);
});

it('Redis dead: each process counts alone with the same limits; shared again once it is back', async () => {
  const [a, b] = [limiter(), limiter()];
  await Promise.all([ready(a), ready(b)]);
  await redis.kill();
  const local = [];
  for (let i = 0; i < 7; i += 1) local.push(await a.check(buckets('carol')));
  expect(local.map((v) => [v.store, v.allowed])).toEqual([
    ...Array(5).fill(['local', true]),
    ['local', false],
    ['local', false],
  ]);
  // The other process has its own budget while Redis is away: the limit relaxes, it does not vanish.
  expect((await b.check(buckets('carol'))).allowed).toBe(true);

  await redis.start();
  await Promise.all([ready(a), ready(b)]);
  const shared = [];
  for (let i = 0; i < 6; i += 1) shared.push(await (i % 2 ? b : a).check(buckets('dave')));
  expect(shared.map((v) => [v.store, v.allowed])).toEqual([...Array(5).fill(['redis', true]), ['redis', false]]);
});
