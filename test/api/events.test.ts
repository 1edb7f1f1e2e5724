/**
 * GET /events through the API (issue 18, item 4): the pull feed pages in position order with
 * `nextCursor`, positions events itself before it reads (no worker relay runs here), filters
 * by type and SKU, and refuses a cursor or limit it cannot use with 400 VALIDATION_FAILED; a
 * NATS channel that is down changes nothing here.
 */
import type { FastifyInstance } from 'fastify';
import type { CloudEvent, FeedPage } from '../../data/events';
import type { Db } from '../../data/db';
import { useAppStack } from '../helpers/app';
import { invariantViolations, resetDb, stock } from '../helpers/db';

// NATS configured and down (nothing listens on port 1): the API must not care (issue 18, item 5).
const stack = useAppStack('time-skipping', 'events-api-test', { EVENTS_NATS_URL: 'nats://127.0.0.1:1' });
let db: Db;
let app: FastifyInstance;
beforeAll(() => {
  ({ db, app } = stack);
});
beforeEach(() => resetDb(db));
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const feed = async (query: string) => {
  const res = await app.inject({ method: 'GET', url: `/events${query}` });
  return { status: res.statusCode, body: res.json() as FeedPage & { code?: string } };
};

it('pages every event once, in order, positioned by the request itself', async () => {
  for (const sku of ['A', 'B', 'C']) await stock(db, sku, 'W1', 2);
  const seen: CloudEvent[] = [];
  let cursor = '';
  for (let guard = 0; guard < 10; guard++) {
    const { status, body } = await feed(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    expect(status).toBe(200);
    seen.push(...body.data);
    cursor = body.nextCursor;
    if (!body.hasMore) break;
  }
  expect(seen.map((e) => [e.type, e.subject, Number(e.sequence)])).toEqual([
    ['stock.changed', 'A@W1', 1],
    ['stock.back_in_stock', 'A@W1', 2],
    ['stock.changed', 'B@W1', 3],
    ['stock.back_in_stock', 'B@W1', 4],
    ['stock.changed', 'C@W1', 5],
    ['stock.back_in_stock', 'C@W1', 6],
  ]);
  expect(seen[0]).toMatchObject({
    specversion: '1.0',
    source: '/stockhold',
    datacontenttype: 'application/json',
    data: { causes: [{ reason: 'RECEIVE:fixture', onHandDelta: 2 }] },
  });
  // At the head: an empty page that keeps the cursor.
  expect((await feed(`?cursor=${cursor}`)).body).toEqual({ data: [], hasMore: false, nextCursor: '6' });
  expect((await feed('?types=stock.changed&sku=B')).body.data.map((e) => e.sequence)).toEqual(['00000000000000000003']);
});

it.each([
  ['a cursor that is not a position', '?cursor=abc'],
  ['a negative cursor', '?cursor=-1'],
  ['a cursor beyond any position', '?cursor=9999999999999999999'],
  ['a limit of 0', '?limit=0'],
  ['a limit over 1000', '?limit=1001'],
  ['an unknown kind of type', '?types=shipping.left'],
  ['an unknown parameter', '?since=1'],
])('400 VALIDATION_FAILED for %s', async (_what, query) => {
  const { status, body } = await feed(query);
  expect([status, body.code]).toEqual([400, 'VALIDATION_FAILED']);
});

it('NATS configured but down: readiness stays green and the feed serves every event (the request path never talks to NATS)', async () => {
  await stock(db, 'N', 'W1', 1);
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  expect(ready.statusCode).toBe(200);
  expect(JSON.stringify(ready.json())).not.toMatch(/nats/i);
  const { status, body } = await feed('?sku=N');
  expect(status).toBe(200);
  expect(body.data.map((e) => e.type)).toContain('stock.changed');
});
