/**
 * Issue 18, item 5: the NATS JetStream channel against a real nats-server (test/helpers/
 * nats-server.ts) and the real PostgreSQL: every positioned event reaches the stream once, in
 * position order, with Nats-Msg-Id = its id; a crash between the acks and the cursor's update
 * sends nothing twice into the stream; NATS down loses nothing and publishing resumes.
 */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { assignAll, deleteAllExpiredEvents, type CloudEvent } from '../../data/events';
import { channelCursor, eventBacklog } from '../../data/events/channels';
import type { Db } from '../../data/db';
import { openJetStream, type JetStreamLink } from '../../platform/nats';
import {
  NATS_CHANNEL,
  NatsEventChannel,
  eventSubject,
  subjectToken,
  type NatsChannelOptions,
  type PublishOutcome,
} from '../../use-cases/publish-events';
import { resetDb, stock, testDb } from '../helpers/db';
import { startOwnNats, type OwnNats } from '../helpers/nats-server';

const STREAM = 'STOCKHOLD_TEST_EVENTS';
const PREFIX = 'stockhold.events';

let db: Db;
let nats: OwnNats;
let nc: Awaited<ReturnType<typeof connect>>;
let jsm: JetStreamManager;
const open = (): Promise<JetStreamLink> =>
  openJetStream({
    url: nats.url,
    name: 'stockhold-test',
    stream: STREAM,
    subjects: [`${PREFIX}.>`],
    maxAgeSeconds: 0,
    duplicateWindowSeconds: 120,
    publishTimeoutMs: 1_000,
    connectTimeoutMs: 500,
  });

beforeAll(async () => {
  db = testDb(3);
  nats = await startOwnNats();
});
afterAll(async () => {
  await nc?.close();
  await nats.dispose();
  await db.$disconnect();
});
beforeEach(async () => {
  await resetDb(db);
  await nc?.close();
  nc = await connect({ servers: nats.url });
  jsm = await jetstreamManager(nc);
  await jsm.streams.delete(STREAM).catch(() => undefined);
});

/** The stream's messages in stream order: id header, subject and envelope. */
async function streamed(): Promise<{ msgId: string | undefined; subject: string; event: CloudEvent }[]> {
  const info = await jsm.streams.info(STREAM);
  const out = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await jsm.streams.getMessage(STREAM, { seq });
    if (m)
      out.push({
        msgId: m.header?.get('Nats-Msg-Id'),
        subject: m.subject,
        event: JSON.parse(Buffer.from(m.data).toString()) as CloudEvent,
      });
  }
  return out;
}

/** The feed's events, in position order. */
async function positioned(): Promise<{ id: string; sequence: string; type: string }[]> {
  const rows = await db.$queryRaw<
    { event: CloudEvent }[]
  >`SELECT event FROM event_outbox WHERE position IS NOT NULL ORDER BY position`;
  return rows.map((r) => ({ id: r.event.id, sequence: r.event.sequence, type: r.event.type }));
}

function channel(extra: Partial<NatsChannelOptions> = {}) {
  const outcomes: Record<PublishOutcome, number> = { published: 0, duplicate: 0, failed: 0 };
  const c = new NatsEventChannel(db, {
    open,
    subjectPrefix: PREFIX,
    intervalMs: 20,
    maxBackoffMs: 100,
    batch: 4,
    onPublish: (o, n) => (outcomes[o] += n),
    ...extra,
  });
  return { c, outcomes };
}

async function until(what: string, ok: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function someEvents(): Promise<void> {
  await stock(db, 'LYCHEE-1KG', 'SH-01', 5);
  await stock(db, 'sku.with*odd>chars é', 'W 2', 3);
  await db.$executeRaw`UPDATE inventory_levels SET reserved = 5 WHERE sku = 'LYCHEE-1KG'`; // out of stock: a derived event too
  await assignAll(db);
}

it('subject tokens: letters, digits, - and _ as they are, the rest %-escaped; missing is _', () => {
  expect(subjectToken('LYCHEE-1KG')).toBe('LYCHEE-1KG');
  expect(subjectToken('a.b*c>d e')).toBe('a%2Eb%2Ac%3Ed%20e');
  expect(subjectToken('%')).toBe('%25');
  expect(subjectToken('é')).toBe('%C3%A9');
  expect(subjectToken(null)).toBe('_');
  expect(subjectToken('_')).toBe('%5F');
  expect(eventSubject('p', { type: 'order.held', warehouseCode: null, sku: null })).toBe('p.order.held._._');
});

it('publishes every positioned event once, in position order, with Nats-Msg-Id = the event id, and moves the cursor', async () => {
  await someEvents();
  const { c, outcomes } = channel();
  while (await c.pass());
  await c.stop();

  const want = await positioned();
  expect(want.length).toBeGreaterThan(4); // more than one batch
  const got = await streamed();
  expect(got.map((m) => m.msgId)).toEqual(want.map((e) => e.id));
  expect(got.map((m) => m.event.id)).toEqual(want.map((e) => e.id));
  expect(got.map((m) => m.event.sequence)).toEqual(want.map((e) => e.sequence));
  expect(got[0].subject).toBe('stockhold.events.stock.changed.SH-01.LYCHEE-1KG');
  expect(got.map((m) => m.subject)).toContain('stockhold.events.stock.changed.W%202.sku%2Ewith%2Aodd%3Echars%20%C3%A9');
  expect(got.map((m) => m.subject)).toContain('stockhold.events.stock.out_of_stock.SH-01.LYCHEE-1KG');
  expect(outcomes).toEqual({ published: want.length, duplicate: 0, failed: 0 });
  expect(await channelCursor(db, NATS_CHANNEL)).toBe(BigInt(want.length));
  const backlog = await eventBacklog(db);
  expect(backlog.channels).toEqual([{ channel: NATS_CHANNEL, lagPositions: 0, lagSeconds: 0 }]);
});

it('killed between the acks and the cursor update: the same ids are sent again and the stream holds each once (dedupe)', async () => {
  await someEvents();
  const crash = new Error('killed');
  const first = channel({ batch: 100, beforeCursorUpdate: () => Promise.reject(crash) });
  await expect(first.c.pass()).rejects.toBe(crash);
  await first.c.stop();
  expect(await channelCursor(db, NATS_CHANNEL)).toBe(0n);

  // Restarted without looking at the stream's tail: everything goes again, and is dropped.
  const again = channel({ batch: 100, trustStreamTail: false });
  await again.c.pass();
  await again.c.stop();
  const want = await positioned();
  expect(again.outcomes).toEqual({ published: 0, duplicate: want.length, failed: 0 });
  expect((await streamed()).map((m) => m.msgId)).toEqual(want.map((e) => e.id));
  expect(await channelCursor(db, NATS_CHANNEL)).toBe(BigInt(want.length));
});

it('killed between the acks and the cursor update: at restart the stream tail moves the cursor, nothing is sent twice', async () => {
  await someEvents();
  const first = channel({ batch: 100, beforeCursorUpdate: () => Promise.reject(new Error('killed')) });
  await expect(first.c.pass()).rejects.toThrow('killed');
  await first.c.stop();

  const restarted = channel({ batch: 100 });
  await restarted.c.pass();
  await restarted.c.stop();
  const want = await positioned();
  expect(restarted.outcomes).toEqual({ published: 0, duplicate: 0, failed: 0 });
  expect(await channelCursor(db, NATS_CHANNEL)).toBe(BigInt(want.length));
  expect((await streamed()).map((m) => m.msgId)).toEqual(want.map((e) => e.id));
});

it('NATS stopped: events wait in the outbox with the cursor where it was; after the restart publishing resumes, nothing lost or doubled', async () => {
  const change = async (sku: string) => {
    await stock(db, sku, 'W1', 1);
    await db.$executeRaw`UPDATE inventory_levels SET on_hand = on_hand + 1 WHERE sku = ${sku}`;
    await assignAll(db);
  };
  const head = async () => BigInt((await positioned()).length);
  await change('A');
  const logs: string[] = [];
  const { c, outcomes } = channel({ log: (m) => logs.push(m) });
  c.start();
  try {
    const first = await head();
    await until('first events published', async () => (await channelCursor(db, NATS_CHANNEL)) === first);

    await nats.kill();
    for (const sku of ['B', 'C', 'D']) await change(sku);
    await until('a failed pass', async () => outcomes.failed > 0);
    expect(await channelCursor(db, NATS_CHANNEL)).toBe(first);
    expect((await eventBacklog(db)).channels[0].lagPositions).toBe(Number((await head()) - first));

    await nats.start();
    const last = await head();
    await until('caught up after the restart', async () => (await channelCursor(db, NATS_CHANNEL)) === last, 15_000);
  } finally {
    await c.stop();
  }
  await nc.close();
  nc = await connect({ servers: nats.url });
  jsm = await jetstreamManager(nc);
  const want = await positioned();
  expect((await streamed()).map((m) => m.msgId)).toEqual(want.map((e) => e.id));
  expect(logs).toContain('NATS publishing resumed');
});

it('NATS unreachable from the first pass: the channel has its cursor row at once, so retention waits for it', async () => {
  await stock(db, 'U', 'W1', 1);
  await assignAll(db);
  const dead = new NatsEventChannel(db, {
    open: () =>
      openJetStream({
        url: 'nats://127.0.0.1:1',
        name: 't',
        stream: STREAM,
        subjects: [`${PREFIX}.>`],
        maxAgeSeconds: 0,
        duplicateWindowSeconds: 120,
        publishTimeoutMs: 500,
        connectTimeoutMs: 200,
      }),
    subjectPrefix: PREFIX,
    intervalMs: 20,
  });
  await expect(dead.pass()).rejects.toThrow();
  await dead.stop();
  expect(await db.$queryRaw`SELECT channel, position FROM event_channel_cursors`).toEqual([
    { channel: NATS_CHANNEL, position: 0n },
  ]);
  await db.$executeRaw`UPDATE event_outbox SET time = clock_timestamp() - interval '30 days'`;
  expect(await deleteAllExpiredEvents(db, 7)).toBe(0);
});

it('the stream deleted while the worker runs: the next connect creates it again and publishing goes on from the cursor', async () => {
  await stock(db, 'S1', 'W1', 1);
  await assignAll(db);
  const { c, outcomes } = channel();
  c.start();
  try {
    const first = BigInt((await positioned()).length);
    await until('first events published', async () => (await channelCursor(db, NATS_CHANNEL)) === first);
    await jsm.streams.delete(STREAM);
    await db.$executeRaw`UPDATE inventory_levels SET on_hand = on_hand + 1 WHERE sku = 'S1'`;
    await assignAll(db);
    const last = BigInt((await positioned()).length);
    await until('published after the stream came back', async () => (await channelCursor(db, NATS_CHANNEL)) === last);
    expect(outcomes.failed).toBeGreaterThan(0);
  } finally {
    await c.stop();
  }
  const want = await positioned();
  // The new stream starts at the cursor: the events published after the deletion, in order.
  const got = await streamed();
  expect(got.length).toBeGreaterThan(0);
  expect(got.map((m) => m.msgId)).toEqual(want.slice(want.length - got.length).map((e) => e.id));
});
