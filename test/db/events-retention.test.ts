/**
 * Issue 18, item 6: retention deletes only positioned events older than EVENT_RETENTION_DAYS
 * that every channel has passed, in batches; the worker's gauges show the event backlog
 * (unpositioned) and each channel's lag in positions and seconds.
 */
import { Registry } from 'prom-client';
import {
  advanceCursor,
  assignAll,
  deleteAllExpiredEvents,
  deleteExpiredEvents,
  eventBacklog,
  startEventRetention,
} from '../../data/events';
import type { Db } from '../../data/db';
import { storeGaugeReader } from '../../data/store-gauges';
import { registerStoreGauges } from '../../platform/store-gauges';
import { resetDb, stock, testDb } from '../helpers/db';

let db: Db;
beforeAll(() => {
  db = testDb(2);
});
afterAll(() => db.$disconnect());
beforeEach(() => resetDb(db));

/** `n` positioned stock.changed events (positions 1..n), `daysOld` days old. */
async function positionedEvents(n: number, daysOld: number): Promise<void> {
  await stock(db, 'R', 'W1', 1);
  for (let have = await assignAll(db); have < n; have += await assignAll(db)) {
    await db.$executeRaw`UPDATE inventory_levels SET on_hand = on_hand + 1 WHERE sku = 'R'`;
  }
  expect(await db.eventOutbox.count()).toBe(n);
  await db.$executeRaw`UPDATE event_outbox SET time = clock_timestamp() - make_interval(days => ${daysOld}::int)`;
}

/** An event committed but not positioned (the relay has not run), `daysOld` days old. */
async function unpositioned(daysOld: number): Promise<void> {
  await db.$executeRaw`
    INSERT INTO event_outbox (type, subject, data, time)
    VALUES ('order.held', 'o-old', '{}'::jsonb, clock_timestamp() - make_interval(days => ${daysOld}::int))`;
}

const positions = async () =>
  (await db.$queryRaw<{ p: bigint | null }[]>`SELECT position AS p FROM event_outbox ORDER BY position NULLS LAST`).map(
    (r) => r.p,
  );

it('deletes old positioned events up to the slowest channel, in batches; never unpositioned ones, never recent ones', async () => {
  await positionedEvents(8, 10);
  await db.$executeRaw`UPDATE event_outbox SET time = clock_timestamp() WHERE position = 2`; // a recent one among old ones
  await unpositioned(30);
  await advanceCursor(db, 'nats', 6n);
  await advanceCursor(db, 'webhooks', 4n); // the slowest channel

  expect(await deleteExpiredEvents(db, 7, 1)).toBe(1); // one batch
  expect(await deleteAllExpiredEvents(db, 7, 1)).toBe(2);
  expect(await positions()).toEqual([2n, 5n, 6n, 7n, 8n, null]);

  // The slow channel catches up: what it passed goes too; past every cursor nothing does.
  await advanceCursor(db, 'webhooks', 8n);
  expect(await deleteAllExpiredEvents(db, 7)).toBe(2);
  expect(await positions()).toEqual([2n, 7n, 8n, null]);

  // With 30-day retention, 10-day-old events stay.
  await db.$executeRaw`DELETE FROM event_channel_cursors`;
  expect(await deleteAllExpiredEvents(db, 30)).toBe(0);
  // No channel at all: every old positioned event may go but the head; the unpositioned one stays.
  expect(await deleteAllExpiredEvents(db, 7)).toBe(1);
  expect(await positions()).toEqual([2n, 8n, null]);
});

it('the head stays, so positions never start again below a reader: the next event is numbered after it', async () => {
  await positionedEvents(4, 10);
  expect(await deleteAllExpiredEvents(db, 7)).toBe(3);
  expect(await positions()).toEqual([4n]);
  await db.$executeRaw`UPDATE inventory_levels SET on_hand = on_hand + 1 WHERE sku = 'R'`;
  await assignAll(db);
  // A reader at cursor 4 (the last it saw) reads the new event; numbered from 1 it would never.
  expect(await positions()).toEqual([4n, 5n]);
});

it('an active webhook subscription holds the events it has not sent; a disabled one does not', async () => {
  await positionedEvents(6, 10);
  await db.$executeRaw`
    INSERT INTO event_subscriptions (id, url, secret, cursor, status)
    VALUES ('sub-slow', 'http://127.0.0.1:9/hook', 'whsec_x', 3, 'ACTIVE'), ('sub-off', 'http://127.0.0.1:9/off', 'whsec_y', 1, 'DISABLED')`;
  expect(await deleteAllExpiredEvents(db, 7)).toBe(3);
  expect(await positions()).toEqual([4n, 5n, 6n]);
  await db.$executeRaw`UPDATE event_subscriptions SET status = 'DISABLED' WHERE id = 'sub-slow'`;
  expect(await deleteAllExpiredEvents(db, 7)).toBe(2);
  expect(await positions()).toEqual([6n]);
});

it('the periodic job deletes at start and reports the count', async () => {
  await positionedEvents(3, 10);
  let deleted = 0;
  const job = startEventRetention(db, { days: 7, intervalMs: 60_000, batch: 2, onDeleted: (n) => (deleted += n) });
  for (let i = 0; i < 200 && deleted < 2; i++) await new Promise((r) => setTimeout(r, 10));
  await job.stop();
  expect(deleted).toBe(2);
  expect(await positions()).toEqual([3n]);
});

it('the gauges show the event backlog and each channel lag in positions and seconds', async () => {
  await positionedEvents(5, 1);
  await unpositioned(0);
  await advanceCursor(db, 'nats', 2n);
  const backlog = await eventBacklog(db);
  expect(backlog.unpositioned).toBe(1);
  expect(backlog.channels).toHaveLength(1);
  expect(backlog.channels[0]).toMatchObject({ channel: 'nats', lagPositions: 3 });
  expect(backlog.channels[0].lagSeconds).toBeGreaterThan(86_000); // its oldest undelivered event is a day old

  const registry = new Registry();
  registerStoreGauges(registry, storeGaugeReader(db), { graceSeconds: 60 });
  const text = await registry.metrics();
  expect(text).toMatch(/^stockhold_events_unpositioned 1$/m);
  expect(text).toMatch(/^stockhold_events_unpositioned_oldest_seconds [0-9.]+$/m);
  expect(text).toMatch(/^stockhold_event_channel_lag_positions\{channel="nats"\} 3$/m);
  expect(text).toMatch(/^stockhold_event_channel_lag_seconds\{channel="nats"\} 8[6-9]\d{3}/m);
});
