/**
 * Stock events on MySQL/MariaDB (issue 22, docs/events.md), mirroring test/db/events*.test.ts:
 * the triggers of migration 0080_events write each change's events in its transaction, and the
 * positioning pass (data/mariadb/events.ts) numbers them after commit, through the service's
 * own data functions on the service user's `Db` (assignPositions, readFeed, advanceCursor,
 * deleteExpiredEvents: what GET /events, the worker's relay, NATS and retention call). A
 * receipt, a hold, a confirm and a release each produce their events once, in commit order;
 * a reader polling during 200 concurrent holds sees every event once with strictly increasing
 * positions and each level's versions in order; retention deletes only what every channel
 * passed; reconciliation's EVENTS_VS_VERSIONS sees a hole in a chain.
 */
import { confirmStockOnMariadb } from '../../data/mariadb/confirm-payment';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import type { FastifyInstance } from 'fastify';
import type { Pool } from 'mariadb';
import { Webhook } from 'standardwebhooks';
import type { Db } from '../../data/db';
import { advanceCursor, assignAll, assignPositions, deleteExpiredEvents, readFeed } from '../../data/events';
import { channelCursor, eventBacklog } from '../../data/events/channels';
import type { CloudEvent } from '../../data/events/types';
import { createSubscription, getSubscription, listDeliveries } from '../../data/events';
import { holdBatchOnMariadb, type MariadbBatchItem } from '../../data/mariadb/hold-batch';
import { releaseOnMariadb, reserveOnMariadb } from '../../data/mariadb/holds';
import { findDriftsOnMariadb } from '../../data/mariadb/reconcile';
import { storeGaugeReader } from '../../data/store-gauges';
import { receiveStock } from '../../data/stock/stock-admin';
import type { OrderLine } from '../../domain/types';
import { openJetStream, type JetStreamLink } from '../../platform/nats';
import { sendWebhook } from '../../platform/webhook-client';
import { newWebhookSecret } from '../../platform/standard-webhooks';
import type { WebhookDeliveryDeps } from '../../use-cases/event-webhooks';
import {
  NATS_CHANNEL,
  NatsEventChannel,
  type NatsChannelOptions,
  type PublishOutcome,
} from '../../use-cases/publish-events';
import { WebhookDispatcher } from '../../use-cases/webhook-dispatcher';
import { eventually, useAppStack } from '../helpers/app';
import {
  describeMariadb,
  mariadbPool,
  mariadbServiceDb,
  resetMariadb,
  seedCampaign,
  seedLevel,
} from '../helpers/mariadb';
import { startOwnNats, type OwnNats } from '../helpers/nats-server';
import { useWebhookReceiver } from '../helpers/webhook-receiver';

const inAnHour = () => new Date(Date.now() + 3_600_000);
const hold = (pool: Pool, serial: string, lines: OrderLine[]) =>
  reserveOnMariadb(pool, {
    serial,
    orderId: serial,
    userId: `u-${serial}`,
    lines,
    expiresAt: inAnHour(),
    saga: { orderId: serial },
  });

/** Every positioned event, paged through the feed as a consumer would. */
async function readAll(db: Db, after = 0n): Promise<CloudEvent[]> {
  const all: CloudEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await readFeed(db, { after: cursor, limit: 50 });
    all.push(...page.data);
    cursor = BigInt(page.nextCursor);
    if (!page.hasMore) return all;
  }
}

/** The highest position given so far. */
async function headOf(pool: Pool): Promise<bigint> {
  const [{ head }] = await pool.query<{ head: number }[]>(
    'SELECT COALESCE(MAX(position), 0) AS head FROM event_outbox',
  );
  return BigInt(head);
}

type StockData = {
  fromVersion: number;
  toVersion: number;
  before: { available: number };
  after: { available: number; onHand: number; reserved: number };
  causes: { reason: string; reference: string }[];
};

describeMariadb('stock events on MariaDB', () => {
  const receiver = useWebhookReceiver();
  let owner: Pool;
  let db: Db;

  beforeAll(async () => {
    await resetMariadb();
    owner = mariadbPool(64);
    db = mariadbServiceDb(40);
  });
  afterAll(async () => {
    await db?.$disconnect();
    await owner?.end();
  });
  afterEach(async () => {
    // The store's drifts, EVENTS_VS_VERSIONS included: every level's chain whole and at its version.
    await assignAll(db);
    expect((await findDriftsOnMariadb(owner)).drifts).toEqual([]);
  });

  test('a receipt, a hold, a confirm and a release each produce their events once, in commit order', async () => {
    await seedLevel(owner, 'EV', 'W1', 0);
    await assignAll(db);
    const start = await headOf(owner);
    const key = 'rcv-ev-1';
    await receiveStock(db, { idempotencyKey: key, sku: 'EV', warehouseCode: 'W1', quantity: 5, reason: 'delivery' });
    // The same receipt again (its key): the first answer, no second change, no second event.
    await receiveStock(db, { idempotencyKey: key, sku: 'EV', warehouseCode: 'W1', quantity: 5, reason: 'delivery' });
    const line = { sku: 'EV', warehouseCode: 'W1', quantity: 2 };
    expect(await hold(owner, 'ev-o1', [line])).toMatchObject({ status: 'reserved' });
    expect(await hold(owner, 'ev-o2', [{ ...line, quantity: 3 }])).toMatchObject({ status: 'reserved' });
    // A refusal changes nothing and emits nothing.
    expect(await hold(owner, 'ev-o3', [line])).toMatchObject({ status: 'rejected' });
    expect(await confirmStockOnMariadb(owner, 'ev-o1', 'pay-1')).toEqual({ status: 'confirmed', paymentId: 'pay-1' });
    expect(await confirmStockOnMariadb(owner, 'ev-o1', 'pay-1')).toEqual({ status: 'confirmed', paymentId: 'pay-1' });
    expect(await releaseOnMariadb(owner, 'ev-o2', 'CANCELLED')).toMatchObject({ status: 'released' });
    expect(await releaseOnMariadb(owner, 'ev-o2', 'CANCELLED')).toMatchObject({ status: 'released' });

    // Nothing is in the feed before a pass positions it; one pass positions all of it; a second finds nothing.
    expect(await assignPositions(db)).toBeGreaterThan(0);
    expect(await assignPositions(db)).toBe(0);
    const events = await readAll(db, start);
    expect(events.map((e) => e.type)).toEqual([
      'stock.changed', // receipt: 0 → 5 available
      'stock.back_in_stock',
      'stock.changed', // ev-o1 holds 2
      'order.held',
      'stock.changed', // ev-o2 holds 3: none left
      'stock.out_of_stock',
      'order.held',
      // Within one transaction, in the order its writer wrote: the hold's status, then the level.
      'order.confirmed', // ev-o1 confirmed: on hand 5 → 3
      'stock.changed',
      'order.released', // ev-o2 released: 3 back
      'stock.changed',
      'stock.back_in_stock',
    ]);
    // Positions 1, 2, 3… with no hole after the start; ids unique.
    expect(events.map((e) => BigInt(e.sequence))).toEqual(events.map((_, i) => start + BigInt(i + 1)));
    expect(events.every((e) => e.sequence.length === 20 && e.specversion === '1.0' && e.source === '/stockhold')).toBe(
      true,
    );
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    // One stock.changed per transaction and level, versions chained, the causes its ledger rows.
    const changes = events.filter((e) => e.type === 'stock.changed').map((e) => e.data as unknown as StockData);
    expect(changes.map((c) => [c.fromVersion, c.toVersion])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 4],
      [4, 5],
    ]);
    expect(changes.map((c) => [c.before.available, c.after.available])).toEqual([
      [0, 5],
      [5, 3],
      [3, 0],
      [0, 0],
      [0, 3],
    ]);
    expect(changes[3].after).toMatchObject({ onHand: 3, reserved: 3 });
    expect(changes.map((c) => c.causes.length)).toEqual([1, 1, 1, 1, 1]);
    expect(changes.slice(1).map((c) => c.causes[0].reference)).toEqual(['ev-o1', 'ev-o2', 'ev-o1', 'ev-o2']);
    // The order events carry their lines; the transition events point at their change.
    const held = events.find((e) => e.type === 'order.held')!;
    expect(held.subject).toBe('ev-o1');
    expect(held.data).toMatchObject({ orderId: 'ev-o1', status: 'RESERVED', lines: [line] });
    expect(held.data.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(events.find((e) => e.type === 'order.confirmed')!.data).toMatchObject({
      paymentId: 'pay-1',
      previousStatus: 'RESERVED',
    });
    expect(events.find((e) => e.type === 'order.released')!.data).toMatchObject({ reason: 'CANCELLED' });
    const out = events.find((e) => e.type === 'stock.out_of_stock')!;
    expect(out.data).toMatchObject({
      sku: 'EV',
      warehouseCode: 'W1',
      available: 0,
      version: 3,
      changeId: events[4].id,
    });
    // Filters: a SKU's stock events only; a last page moves the cursor to the head it searched.
    const badges = await readFeed(db, {
      after: start,
      limit: 100,
      types: ['stock.out_of_stock', 'stock.back_in_stock'],
      sku: 'EV',
    });
    expect(badges.data.map((e) => e.type)).toEqual([
      'stock.back_in_stock',
      'stock.out_of_stock',
      'stock.back_in_stock',
    ]);
    expect(badges.nextCursor).toBe(events[events.length - 1].sequence.replace(/^0+/, ''));
    // The store gauges read the (empty) backlog.
    expect(await storeGaugeReader(db).events!()).toMatchObject({ unpositioned: 0 });
    // And the console's backlog read (data/events/channels.ts eventBacklog) reads MariaDB.
    expect(await eventBacklog(db)).toMatchObject({ unpositioned: 0, unpositionedOldestSeconds: 0 });
  });

  test('a flash-sale batch: one campaign.changed per batch and campaign.sold_out at 0; a settled payment and an alert have theirs', async () => {
    await seedLevel(owner, 'FLASHY', 'W1', 10);
    await seedCampaign(owner, 'c-ev', 'FLASHY', 'W1', 3, 5);
    await assignAll(db);
    const start = await headOf(owner);
    const expiresAt = inAnHour().toISOString();
    const item = (serial: string): MariadbBatchItem => {
      const line = { sku: 'FLASHY', warehouseCode: 'W1', quantity: 1 };
      return {
        serial,
        orderId: serial,
        userId: `u-${serial}`,
        quantity: 1,
        expiresAt,
        reserved: { status: 'reserved', reservationId: serial, lines: [line], allocations: [], expiresAt },
        saga: { orderId: serial, userId: `u-${serial}` },
      };
    };
    const target = { kind: 'campaign', campaignId: 'c-ev' } as const;
    await holdBatchOnMariadb(owner, target, [item('fl-1'), item('fl-2')]);
    await holdBatchOnMariadb(owner, target, [item('fl-3')]);
    await owner.query(
      `INSERT INTO payments (order_id, payment_id, event_id, amount_cents, state, settled_at)
       VALUES ('fl-1', 'pay-fl-1', 'evt-1', 100, 'CONFIRMED', UTC_TIMESTAMP(3))`,
    );
    await owner.query(
      `INSERT INTO stock_alerts (kind, subject, sku, warehouse_code, details)
       VALUES ('NEAR_EXPIRY', 'FLASHY/W1/L1', 'FLASHY', 'W1', JSON_OBJECT('days', 3))`,
    );
    await assignAll(db);
    const events = await readAll(db, start);
    // Within a batch, in the order the procedure writes: its holds, then the pool.
    expect(events.map((e) => e.type)).toEqual([
      'order.held',
      'order.held',
      'campaign.changed',
      'order.held',
      'campaign.changed',
      'campaign.sold_out',
      'payment.settled',
      'alert.near_expiry',
    ]);
    const pools = events.filter((e) => e.type === 'campaign.changed').map((e) => e.data);
    expect(pools).toEqual([
      expect.objectContaining({
        campaignId: 'c-ev',
        before: expect.objectContaining({ remaining: 3 }),
        after: expect.objectContaining({ remaining: 1, status: 'OPEN' }),
      }),
      expect.objectContaining({
        before: expect.objectContaining({ remaining: 1 }),
        after: expect.objectContaining({ remaining: 0 }),
      }),
    ]);
    expect(events[5].data).toEqual({ campaignId: 'c-ev', sku: 'FLASHY', warehouseCode: 'W1', changeId: events[4].id });
    expect(events[6].data).toMatchObject({
      orderId: 'fl-1',
      paymentId: 'pay-fl-1',
      state: 'CONFIRMED',
      previousState: null,
    });
    expect(events[7]).toMatchObject({
      subject: 'FLASHY/W1/L1',
      data: { kind: 'NEAR_EXPIRY', lotCode: null, details: { days: 3 } },
    });
  });

  test('a transaction still open is not positioned, and is numbered after what committed meanwhile', async () => {
    await seedLevel(owner, 'OPEN-A', 'W1', 10);
    await seedLevel(owner, 'OPEN-B', 'W1', 10);
    await assignAll(db);
    const start = await headOf(owner);
    // A writer holds its transaction open after changing OPEN-A (its event inserted first, lower id).
    const slow = await owner.getConnection();
    try {
      await slow.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
      await slow.beginTransaction();
      await slow.query('SET @stockhold_txid = UUID_SHORT()');
      await slow.query("UPDATE inventory_levels SET safety_stock = 1 WHERE sku = 'OPEN-A' AND warehouse_code = 'W1'");
      await hold(owner, 'open-b', [{ sku: 'OPEN-B', warehouseCode: 'W1', quantity: 1 }]);
      // The pass positions what committed (the hold), not the open transaction's event.
      await assignAll(db);
      const first = await readAll(db, start);
      expect(first.map((e) => e.subject)).toEqual(['OPEN-B@W1', 'open-b']);
      const cursor = BigInt(first[first.length - 1].sequence);
      await slow.commit();
      await assignAll(db);
      // The late commit comes after the reader's cursor: nothing appeared below it.
      const later = await readAll(db, cursor);
      expect(later.map((e) => e.subject)).toEqual(['OPEN-A@W1']);
      expect(BigInt(later[0].sequence)).toBe(cursor + 1n);
      expect(await readAll(db, start)).toEqual([...first, ...later]);
    } finally {
      await slow.release();
    }
  });

  test('a reader polling during 200 concurrent holds sees every event once, positions strictly increasing', async () => {
    await seedLevel(owner, 'RUSH', 'W1', 150);
    await seedLevel(owner, 'RUSH', 'W2', 150);
    await assignAll(db);
    const start = await headOf(owner);
    const seen: CloudEvent[] = [];
    let done = false;
    let cursor = start;
    // The reader does what GET /events does: a pass, then a page; two relays position meanwhile.
    const reader = (async () => {
      for (;;) {
        const finished = done;
        await assignPositions(db);
        const page = await readFeed(db, { after: cursor, limit: 37 });
        seen.push(...page.data);
        cursor = BigInt(page.nextCursor);
        if (finished && !page.hasMore) return;
      }
    })();
    const relays = [0, 1].map(async () => {
      while (!done) await assignPositions(db, 25);
    });
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        hold(owner, `rush-${i}`, [{ sku: 'RUSH', warehouseCode: i % 2 ? 'W1' : 'W2', quantity: 1 }]),
      ),
    );
    done = true;
    await Promise.all([reader, ...relays]);
    expect(outcomes.every((o) => o.status === 'reserved')).toBe(true);

    const positions = seen.map((e) => BigInt(e.sequence));
    expect(positions.every((p, i) => i === 0 || p > positions[i - 1])).toBe(true);
    expect(positions).toEqual(positions.map((_, i) => start + BigInt(i + 1)));
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    // Everything committed was seen: 200 order.held, 200 stock.changed, and what the outbox has.
    expect(seen.filter((e) => e.type === 'order.held')).toHaveLength(200);
    const [{ n }] = await owner.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM event_outbox WHERE position > ?', [
      start.toString(),
    ]);
    expect(seen).toHaveLength(Number(n));
    // Each level's changes in position order are its versions in order: no subject reordered.
    for (const w of ['W1', 'W2']) {
      const chain = seen
        .filter((e) => e.type === 'stock.changed' && e.subject === `RUSH@${w}`)
        .map((e) => e.data as unknown as StockData);
      expect(chain).toHaveLength(100);
      expect(chain.every((c, i) => c.fromVersion === 1 + i && c.toVersion === 2 + i)).toBe(true);
    }
  }, 60_000);

  test('retention deletes only old positioned events every channel has passed; the chain check stays valid', async () => {
    await seedLevel(owner, 'OLD', 'W1', 10);
    for (let i = 0; i < 4; i++) await hold(owner, `old-${i}`, [{ sku: 'OLD', warehouseCode: 'W1', quantity: 1 }]);
    await assignAll(db);
    const all = await readAll(db);
    const head = BigInt(all[all.length - 1].sequence);
    // A hold committed but not positioned yet (its stock.changed and order.held): never deleted.
    await hold(owner, 'old-late', [{ sku: 'OLD', warehouseCode: 'W1', quantity: 1 }]);
    await owner.query('UPDATE event_outbox SET time = time - INTERVAL 30 DAY');
    const mid = head - 3n;
    await advanceCursor(db, 'nats', mid);
    expect(await deleteExpiredEvents(db, 7)).toBe(Number(mid));
    const [{ low, unpositioned }] = await owner.query<{ low: number; unpositioned: number }[]>(
      'SELECT MIN(position) AS low, SUM(position IS NULL) AS unpositioned FROM event_outbox',
    );
    expect(BigInt(low)).toBe(mid + 1n);
    expect(Number(unpositioned)).toBe(2);
    // A channel's cursor never moves back.
    await advanceCursor(db, 'nats', 1n);
    expect(await deleteExpiredEvents(db, 7)).toBe(0);
    // Nothing younger than the retention goes, whatever the cursors.
    await advanceCursor(db, 'nats', head);
    expect(await deleteExpiredEvents(db, 60)).toBe(0);
    // All but the head: the next positions follow it, never given twice.
    expect(await deleteExpiredEvents(db, 7)).toBe(2);
    // The feed goes on after the retained ones; reconciliation judges each chain from its first remaining event.
    await assignAll(db);
    expect(await headOf(owner)).toBe(head + 2n);
    expect((await readAll(db, head)).map((e) => e.subject)).toEqual(['OLD@W1', 'old-late']);
    expect((await findDriftsOnMariadb(owner)).drifts).toEqual([]);
  });

  test("reconciliation's EVENTS_VS_VERSIONS sees a level whose events lost one", async () => {
    await seedLevel(owner, 'GAP', 'W1', 10);
    for (let i = 0; i < 3; i++) await hold(owner, `gap-${i}`, [{ sku: 'GAP', warehouseCode: 'W1', quantity: 1 }]);
    await assignAll(db);
    const [gone] = await owner.query<Record<string, unknown>[]>(
      `SELECT id, event_id, CAST(txid AS CHAR) AS txid, type, subject, sku, warehouse_code, data, time, position, event FROM event_outbox
        WHERE type = 'stock.changed' AND subject = 'GAP@W1' AND JSON_VALUE(data, '$.toVersion') = 3`,
    );
    await owner.query('DELETE FROM event_outbox WHERE id = ?', [gone.id]);
    expect((await findDriftsOnMariadb(owner)).drifts).toEqual([
      expect.objectContaining({ check: 'EVENTS_VS_VERSIONS', sku: 'GAP', warehouseCode: 'W1', recorded: 1 }),
    ]);
    // Put it back (as it was): the chain is whole again.
    await owner.query(
      `INSERT INTO event_outbox (id, event_id, txid, type, subject, sku, warehouse_code, data, time, position, event)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ['id', 'event_id', 'txid', 'type', 'subject', 'sku', 'warehouse_code', 'data', 'time', 'position', 'event'].map(
        (k) => (k === 'data' || k === 'event' ? JSON.stringify(gone[k]) : gone[k]),
      ),
    );
  });
  test('a webhook subscription receives every event signed, once per event, in order, across a failure and a dispatcher restart', async () => {
    await seedLevel(owner, 'HOOK', 'W1', 20);
    await assignAll(db);
    const secret = newWebhookSecret();
    // A new subscription starts at the head: it hears what commits from then on.
    const sub = await createSubscription(db, {
      id: 'sub-1',
      url: `${receiver.base}/hook`,
      types: ['stock.*', 'order.held'],
      skus: [],
      warehouses: [],
      secret,
    });
    const start = BigInt(sub.cursor);
    expect(start).toBe(await headOf(owner));
    // The receiver fails the first attempt: the event is retried (same webhook-id), nothing behind it goes first.
    receiver.script('/hook', [{ status: 503 }, { status: 204 }]);
    const deps: WebhookDeliveryDeps = {
      db,
      send: sendWebhook,
      now: Date.now,
      random: () => 0.5,
      policy: { refusePrivate: false, allowedHosts: [] },
      timeoutMs: 3_000,
      retryScheduleMs: [200, 200, 200],
    };
    const dispatch = () => new WebhookDispatcher(deps, { pollMs: 30, leaseMs: 30_000 }).start();
    let dispatcher = dispatch();
    try {
      for (let i = 0; i < 3; i++) await hold(owner, `hook-${i}`, [{ sku: 'HOOK', warehouseCode: 'W1', quantity: 1 }]);
      await assignAll(db);
      await eventually(
        async () => receiver.on('/hook').length,
        (n) => n === 7, // 3 × (stock.changed, order.held) and the first one's retry
        10_000,
      );
      await dispatcher.stop();
      // Changes while no dispatcher runs wait in the outbox; a new dispatcher resumes at the cursor.
      for (let i = 3; i < 6; i++) await hold(owner, `hook-${i}`, [{ sku: 'HOOK', warehouseCode: 'W1', quantity: 1 }]);
      await releaseOnMariadb(owner, 'hook-0', 'CANCELLED'); // stock.changed (sent), order.released (filtered out)
      await assignAll(db);
      dispatcher = dispatch();
      await eventually(
        async () => receiver.on('/hook').length,
        (n) => n === 14,
        10_000,
      );
    } finally {
      await dispatcher.stop();
    }
    const expected = (await readAll(db, start)).filter((e) => e.type.startsWith('stock.') || e.type === 'order.held');
    expect(expected).toHaveLength(13);
    const got = receiver.on('/hook');
    const ids = got.map((r) => r.headers['webhook-id']);
    // The first event twice (the 503, then its retry), then every other one once, in position order.
    expect(ids).toEqual([expected[0].id, ...expected.map((e) => e.id)]);
    const hook = new Webhook(secret);
    for (const [i, r] of got.entries()) {
      expect(hook.verify(r.body, r.headers)).toMatchObject({ id: ids[i] });
      expect(() => hook.verify(r.body.replace('HOOK', 'HOOX'), r.headers)).toThrow();
    }
    expect(got.slice(1).map((r) => JSON.parse(r.body))).toEqual(expected);
    expect((await getSubscription(db, 'sub-1'))!.cursor).toBe(
      expected[expected.length - 1].sequence.replace(/^0+/, ''),
    );
    expect(await listDeliveries(db, 'sub-1', undefined, 10)).toEqual([
      expect.objectContaining({ status: 'DELIVERED', attempts: 2, lastStatus: 204, eventId: expected[0].id }),
    ]);
  }, 30_000);
});

describeMariadb('GET /events and the subscription routes on MariaDB, through the API', () => {
  const stack = useAppStack(
    'dev',
    'mariadb-events-test',
    { ORDER_RATE_LIMIT_PER_MINUTE: '100000' },
    undefined,
    'mariadb',
  );
  let app: FastifyInstance;
  let owner: Pool;
  beforeAll(() => {
    ({ app } = stack);
    owner = mariadbPool(4);
  });
  afterAll(async () => {
    await owner?.end();
  });

  test('an order placed over HTTP is in the feed (positioned by the feed itself); cursors page it; bad input is 400', async () => {
    await seedLevel(owner, 'WEB', 'W1', 5);
    const placed = await app.inject({
      method: 'POST',
      url: '/orders',
      payload: { orderId: 'web-1', userId: 'u-web', lines: [{ sku: 'WEB', warehouseCode: 'W1', quantity: 2 }] },
    });
    expect(placed.statusCode).toBe(201);
    const res = await app.inject({ method: 'GET', url: '/events?types=order.held,stock.changed&sku=WEB' });
    expect(res.statusCode).toBe(200);
    const page = res.json<{ data: CloudEvent[]; hasMore: boolean; nextCursor: string }>();
    expect(page.data.map((e) => [e.type, (e.data as { toVersion?: number }).toVersion])).toEqual([
      ['stock.changed', 1],
      ['stock.changed', 2],
    ]);
    const all = await app.inject({ method: 'GET', url: '/events?limit=1' });
    const first = all.json<{ data: CloudEvent[]; hasMore: boolean; nextCursor: string }>();
    expect(first).toMatchObject({ hasMore: true, nextCursor: '1' });
    const rest = await app.inject({ method: 'GET', url: `/events?cursor=${first.nextCursor}&limit=1000` });
    const held = rest.json<{ data: CloudEvent[] }>().data.find((e) => e.type === 'order.held')!;
    expect(held.data).toMatchObject({ orderId: 'web-1', lines: [{ sku: 'WEB', warehouseCode: 'W1', quantity: 2 }] });
    for (const url of ['/events?cursor=abc', '/events?limit=0', '/events?limit=1001'])
      expect([url, (await app.inject({ method: 'GET', url })).statusCode]).toEqual([url, 400]);
  });

  test('POST/GET/DELETE /admin/event-subscriptions answer as on PostgreSQL', async () => {
    const created = await app.inject({
      method: 'POST',
      url: '/admin/event-subscriptions',
      payload: { url: 'http://127.0.0.1:9/hook', types: ['stock.*'], skus: ['WEB'] },
    });
    expect(created.statusCode).toBe(201);
    const body = created.json<{ id: string; secret: string; status: string; types: string[]; skus: string[] }>();
    expect(body).toMatchObject({ status: 'ACTIVE', types: ['stock.*'], skus: ['WEB'] });
    expect(body.secret).toMatch(/^whsec_/);
    const listed = await app.inject({ method: 'GET', url: '/admin/event-subscriptions' });
    expect(listed.statusCode).toBe(200);
    expect(JSON.stringify(listed.json())).toContain(body.id);
    expect(JSON.stringify(listed.json())).not.toContain(body.secret);
    const off = await app.inject({
      method: 'PATCH',
      url: `/admin/event-subscriptions/${body.id}`,
      payload: { enabled: false },
    });
    expect([off.statusCode, off.json<{ status: string; disabledReason: string }>()]).toEqual([
      200,
      expect.objectContaining({ status: 'DISABLED', disabledReason: 'MANUAL' }),
    ]);
    const url = `/admin/event-subscriptions/${body.id}`;
    expect((await app.inject({ method: 'DELETE', url })).statusCode).toBe(204);
    expect((await app.inject({ method: 'GET', url })).statusCode).toBe(404);
  });
});

describeMariadb('the NATS JetStream channel on MariaDB', () => {
  const STREAM = 'STOCKHOLD_MARIADB_TEST_EVENTS';
  let owner: Pool;
  let db: Db;
  let nats: OwnNats;
  let nc: Awaited<ReturnType<typeof connect>>;
  let jsm: JetStreamManager;
  const open = (): Promise<JetStreamLink> =>
    openJetStream({
      url: nats.url,
      name: 'stockhold-mariadb-test',
      stream: STREAM,
      subjects: ['stockhold.events.>'],
      maxAgeSeconds: 0,
      duplicateWindowSeconds: 120,
      publishTimeoutMs: 1_000,
      connectTimeoutMs: 500,
    });
  beforeAll(async () => {
    await resetMariadb();
    owner = mariadbPool(8);
    db = mariadbServiceDb(4);
    nats = await startOwnNats();
    nc = await connect({ servers: nats.url });
    jsm = await jetstreamManager(nc);
  });
  afterAll(async () => {
    await nc?.close();
    await nats?.dispose();
    await db?.$disconnect();
    await owner?.end();
  });

  test('every positioned event reaches the stream once, in position order (Nats-Msg-Id = its id); a restart after a kill sends nothing twice', async () => {
    await seedLevel(owner, 'NATS', 'W1', 3);
    for (let i = 0; i < 3; i++) await hold(owner, `nats-${i}`, [{ sku: 'NATS', warehouseCode: 'W1', quantity: 1 }]);
    await assignAll(db);
    const want = await readAll(db);
    const channel = (extra: Partial<NatsChannelOptions> = {}) => {
      const outcomes: Record<PublishOutcome, number> = { published: 0, duplicate: 0, failed: 0 };
      const c = new NatsEventChannel(db, {
        open,
        subjectPrefix: 'stockhold.events',
        intervalMs: 20,
        maxBackoffMs: 100,
        batch: 4,
        onPublish: (o, n) => (outcomes[o] += n),
        ...extra,
      });
      return { c, outcomes };
    };
    // Killed between the stream's acks and the cursor's update.
    const first = channel({ beforeCursorUpdate: () => Promise.reject(new Error('killed')) });
    await expect(first.c.pass()).rejects.toThrow('killed');
    await first.c.stop();
    expect(await channelCursor(db, NATS_CHANNEL)).toBe(0n);
    const restarted = channel();
    while (await restarted.c.pass());
    await restarted.c.stop();
    expect(await channelCursor(db, NATS_CHANNEL)).toBe(BigInt(want.length));
    const info = await jsm.streams.info(STREAM);
    const got: { msgId: string | undefined; subject: string; event: CloudEvent }[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const m = await jsm.streams.getMessage(STREAM, { seq });
      if (m)
        got.push({
          msgId: m.header?.get('Nats-Msg-Id'),
          subject: m.subject,
          event: JSON.parse(Buffer.from(m.data).toString()) as CloudEvent,
        });
    }
    expect(got.map((m) => m.msgId)).toEqual(want.map((e) => e.id));
    expect(got.map((m) => m.event)).toEqual(want);
    expect(got.map((m) => m.subject)).toContain('stockhold.events.stock.out_of_stock.W1.NATS');
    // The channel's lag reads MariaDB too.
    expect((await storeGaugeReader(db).events!()).channels).toEqual([
      { channel: NATS_CHANNEL, lagPositions: 0, lagSeconds: 0 },
    ]);
  });
});
