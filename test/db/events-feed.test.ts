/**
 * Issue 18, item 4: the feed yields every event exactly once, in order, with concurrent
 * writers, two relays positioning at the same time, and a writer holding its transaction
 * open while later ones commit (the case where a bigserial cursor skips a row: the open
 * transaction's row would carry a smaller number than rows already read).
 */
import { Client } from 'pg';
import { assignPositions, readFeed, type CloudEvent } from '../../data/events';
import type { Db } from '../../data/db';
import { releaseStock } from '../../data/orders/release';
import { reserveStock } from '../../data/orders/reservations';
import { invariantViolations, resetDb, stock, testDb } from '../helpers/db';
import { TEST_DATABASE_URL } from '../helpers/env';
import { eventViolations } from '../helpers/events';

let db: Db;
let relayDbs: Db[];
beforeAll(() => {
  // One writer per level at a time (below): a connection each, none waits for the pool's 5 s
  // connect timeout, and no row-lock queue grows past lock_timeout on a slow machine (CI met both
  // when 24 writers queued on 3 rows).
  db = testDb(8);
  relayDbs = [testDb(1), testDb(1)];
});
afterAll(async () => {
  await Promise.all([db, ...relayDbs].map((d) => d.$disconnect()));
});
beforeEach(() => resetDb(db));
afterEach(async () => {
  expect(await eventViolations(db)).toEqual([]);
  expect(await invariantViolations(db)).toEqual([]);
});

const SKUS = ['A', 'B', 'C', 'D'];
const expiresAt = () => new Date(Date.now() + 60_000).toISOString();

/** Pages the feed from `after` until a page says there is no more; returns the events and the cursor. */
async function drain(after: bigint, limit: number): Promise<{ events: CloudEvent[]; cursor: bigint }> {
  const events: CloudEvent[] = [];
  let cursor = after;
  for (;;) {
    const page = await readFeed(db, { after: cursor, limit });
    events.push(...page.data);
    cursor = BigInt(page.nextCursor);
    if (!page.hasMore) return { events, cursor };
  }
}

/** Two relays, each positioning in a loop until told to stop. */
function runRelays(): { stop: () => Promise<void> } {
  let running = true;
  const loops = relayDbs.map(async (relayDb) => {
    while (running) {
      await assignPositions(relayDb, 7);
      await new Promise((resolve) => setImmediate(resolve));
    }
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

it('two relays, concurrent writers and a transaction held open: every event once, in order, no hole', async () => {
  for (const sku of SKUS) await stock(db, sku, 'W1', 1000);
  const relays = runRelays();
  const seen: CloudEvent[] = [];
  let cursor = 0n;
  const readSome = async () => {
    const got = await drain(cursor, 5);
    seen.push(...got.events);
    cursor = got.cursor;
  };

  // A writer takes A's level and keeps its transaction open.
  const open = new Client({ connectionString: TEST_DATABASE_URL });
  await open.connect();
  try {
    await heldOpenWhileOthersCommit(open, relays, seen, readSome);
  } finally {
    // Whatever failed: the open transaction and the relays end, so the next test's reset is not stuck behind them.
    await open.end().catch(() => undefined);
    await relays.stop();
  }
  while ((await assignPositions(db)) > 0);
  await readSome();
  const positions = seen.map((e) => Number(e.sequence));
  expect(positions).toEqual(positions.map((_, i) => i + 1)); // 1, 2, 3… each once
  expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
  const [{ total }] = await db.$queryRaw<{ total: bigint }[]>`SELECT count(*)::bigint AS total FROM event_outbox`;
  expect(BigInt(seen.length)).toBe(total);
  // Per level, in feed order, versions chain.
  for (const sku of SKUS) {
    const chain = seen
      .filter((e) => e.type === 'stock.changed' && e.subject === `${sku}@W1`)
      .map((e) => e.data as { fromVersion: number; toVersion: number });
    chain.forEach((v, i) => expect(v.fromVersion).toBe(i === 0 ? 0 : chain[i - 1].toVersion));
  }
});

/** The open transaction, the writers committing past it, and its commit last. */
async function heldOpenWhileOthersCommit(
  open: Client,
  relays: { stop: () => Promise<void> },
  seen: CloudEvent[],
  readSome: () => Promise<void>,
): Promise<void> {
  await open.query('BEGIN');
  await open.query(
    `UPDATE inventory_levels SET safety_stock = safety_stock + 1, version = version + 1 WHERE sku = 'A'`,
  );

  // Others commit meanwhile (B, C, D: one writer per level, the three at once), while the
  // consumer reads past them.
  await Promise.all(
    ['B', 'C', 'D'].map(async (sku) => {
      for (let i = 0; i < 8; i += 1)
        await reserveStock(db, {
          reservationId: `${sku}-${i}`,
          orderId: `${sku}-${i}`,
          userId: 'u',
          lines: [{ sku, warehouseCode: 'W1', quantity: 1 }],
          expiresAt: expiresAt(),
        });
    }),
  );
  await readSome();
  const readBeforeCommit = seen.length;
  expect(seen.some((e) => e.subject === 'A@W1' && (e.data as { toVersion: number }).toVersion === 2)).toBe(false);

  // The open transaction commits last: its event comes after everything already read.
  await open.query('COMMIT');
  await Promise.all(
    SKUS.map(async (sku) => {
      for (let i = 0; i < 4; i += 1) await releaseStock(db, `${sku}-${i}`, 'CANCELLED');
    }),
  );
  await relays.stop();
  while ((await assignPositions(db)) > 0);
  await readSome();
  expect(seen.length).toBeGreaterThan(readBeforeCommit);
}

it('filters by type and SKU; an empty last page still moves the cursor to the head', async () => {
  for (const sku of SKUS) await stock(db, sku, 'W1', 1);
  await reserveStock(db, {
    reservationId: 'o1',
    orderId: 'o1',
    userId: 'u',
    lines: [{ sku: 'B', warehouseCode: 'W1', quantity: 1 }],
    expiresAt: expiresAt(),
  });
  while ((await assignPositions(db)) > 0);
  const out = await readFeed(db, { after: 0n, limit: 10, types: ['stock.out_of_stock'] });
  expect(out.data.map((e) => [e.type, e.subject])).toEqual([['stock.out_of_stock', 'B@W1']]);
  const bySku = await readFeed(db, { after: 0n, limit: 10, sku: 'C' });
  expect(bySku.data.map((e) => e.type)).toEqual(['stock.changed', 'stock.back_in_stock']);
  const none = await readFeed(db, { after: 0n, limit: 10, types: ['alert.expired'] });
  const [{ head }] = await db.$queryRaw<{ head: bigint }[]>`SELECT max(position) AS head FROM event_outbox`;
  expect(none).toEqual({ data: [], hasMore: false, nextCursor: head.toString() });
});
