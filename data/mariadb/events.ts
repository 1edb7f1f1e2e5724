/**
 * The event outbox on MySQL/MariaDB (issue 22, docs/events.md): positioning, the pull feed,
 * push channels' cursors, the backlog and retention. The events themselves are written by
 * triggers in the writer's transaction (prisma/mysql/migrations/0080_events).
 *
 * Positions in commit order, on InnoDB. An AUTO_INCREMENT id is taken at INSERT, before
 * commit, so it cannot be the feed's order: a transaction that commits late would appear behind
 * a cursor that already passed it. Instead a positioning pass (assignMariadbPositions):
 *   1. locks the one row of `event_position_lock` FOR UPDATE, held until its COMMIT, so passes
 *      run one after another (any number of relays and feeds may call it);
 *   2. reads, in new READ COMMITTED statements after that lock, the highest position (which
 *      includes the previous pass's, committed before the lock was granted) and the
 *      unpositioned events, in id order. A consistent read in READ COMMITTED sees only rows
 *      whose transaction committed: an event of a transaction still open is invisible, left
 *      unpositioned, and numbered by the first pass that runs after its commit;
 *   3. gives them head + 1, head + 2, … (and the transition events right behind their parent)
 *      and writes each envelope, all in its one transaction.
 * Why a reader never skips: a reader's page is one statement, so one read view; it sees a pass
 * either whole or not at all (one commit). Every position a later pass gives is above every
 * position given before (the head is read under the lock, after the previous pass committed),
 * so once a reader has seen position N, nothing new ever appears at or below N. Why two events
 * of one subject keep their order: the later writer touched the subject's row (a level, a
 * campaign, a hold) only after the earlier writer's commit released its row lock, so the
 * earlier event was committed, and inserted with a smaller id, before the later one was
 * inserted: a pass that sees the later one sees the earlier one too, and numbers it first.
 * `test/mariadb/events.test.ts` proves it with a reader polling during 200 concurrent holds.
 */
import { createHash } from 'node:crypto';
import type { Pool } from 'mariadb';
import type { CloudEvent, FeedPage } from '../events/types';
import { inMariadbTx, jsonValue } from './tx';

interface OutboxRow {
  id: number;
  event_id: string;
  txid: string;
  type: string;
  subject: string;
  sku: string | null;
  warehouse_code: string | null;
  data: unknown;
  time_iso: string;
}

interface Cause {
  txid: string;
  sku: string;
  warehouse_code: string;
  id: number;
  reason: string;
  reference: string;
  lot_code: string | null;
  actor: string | null;
  on_hand_delta: number;
  reserved_delta: number;
  incoming_delta: number;
}

const ISO = (col: string) =>
  `CONCAT(DATE_FORMAT(${col}, '%Y-%m-%dT%H:%i:%s.'), LPAD(MICROSECOND(${col}) DIV 1000, 3, '0'), 'Z')`;

/** PostgreSQL's md5(parent id || type)::uuid::text: a transition event's id, the same on every pass. */
function derivedId(parentId: string, type: string): string {
  const h = createHash('md5')
    .update(parentId + type)
    .digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function cloudEvent(
  id: string,
  source: string,
  type: string,
  subject: string,
  time: string,
  position: number,
  data: Record<string, unknown>,
): CloudEvent {
  return {
    specversion: '1.0',
    id,
    source,
    type,
    subject,
    time,
    sequence: String(position).padStart(20, '0'),
    datacontenttype: 'application/json',
    data,
  };
}

/** The transition an event implies (availability crossing 0, an open pool sold out), or null. */
function derivedType(type: string, data: Record<string, unknown>): string | null {
  if (type === 'stock.changed') {
    const before = Number((data.before as { available: number }).available);
    const after = Number((data.after as { available: number }).available);
    if (before > 0 && after <= 0) return 'stock.out_of_stock';
    if (before <= 0 && after > 0) return 'stock.back_in_stock';
  }
  if (type === 'campaign.changed') {
    const before = data.before as { remaining: number } | null;
    const after = data.after as { remaining: number; status: string };
    if ((before?.remaining ?? 1) > 0 && Number(after.remaining) === 0 && after.status === 'OPEN')
      return 'campaign.sold_out';
  }
  return null;
}

/** One positioning pass (see the header); returns how many events it positioned. */
export async function assignMariadbPositions(pool: Pool, limit: number, source: string): Promise<number> {
  return inMariadbTx(pool, async (tx) => {
    await tx.query('SELECT id FROM event_position_lock WHERE id = 1 FOR UPDATE');
    const [{ head }] = await tx.query<{ head: number }[]>(
      'SELECT COALESCE(MAX(position), 0) AS head FROM event_outbox',
    );
    const rows = await tx.query<OutboxRow[]>(
      `SELECT id, event_id, CAST(txid AS CHAR) AS txid, type, subject, sku, warehouse_code, data, ${ISO('time')} AS time_iso
         FROM event_outbox WHERE position IS NULL ORDER BY id LIMIT ?`,
      [limit],
    );
    if (rows.length === 0) return 0;
    // The causes of each stock.changed: its transaction's ledger rows of the level.
    const txids = [...new Set(rows.filter((r) => r.type === 'stock.changed').map((r) => r.txid))];
    const causes =
      txids.length === 0
        ? []
        : await tx.query<Cause[]>(
            `SELECT CAST(txid AS CHAR) AS txid, sku, warehouse_code, id, reason, reference, lot_code, actor,
                    on_hand_delta, reserved_delta, incoming_delta
               FROM stock_movements WHERE txid IN (${txids.map(() => '?').join(', ')}) ORDER BY id`,
            txids,
          );
    const orderData = rows.filter((r) => r.type.startsWith('order.')).map((r) => jsonValue(r.data));
    const reservationIds = [...new Set(orderData.map((d) => (d as { reservationId: string }).reservationId))];
    const lines =
      reservationIds.length === 0
        ? []
        : await tx.query<{ reservation_id: string; sku: string; warehouse_code: string; quantity: number }[]>(
            `SELECT reservation_id, sku, warehouse_code, quantity FROM reservation_lines
              WHERE reservation_id IN (${reservationIds.map(() => '?').join(', ')})
              ORDER BY reservation_id, sku, warehouse_code`,
            reservationIds,
          );
    const updates: unknown[][] = [];
    const implied: unknown[][] = [];
    let position = Number(head);
    for (const r of rows) {
      let data = jsonValue(r.data) as Record<string, unknown>;
      if (r.type === 'stock.changed')
        data = {
          ...data,
          causes: causes
            .filter((c) => c.txid === r.txid && c.sku === r.sku && c.warehouse_code === r.warehouse_code)
            .map((c) => ({
              movementId: String(c.id),
              reason: c.reason,
              reference: c.reference,
              lotCode: c.lot_code,
              actor: c.actor,
              onHandDelta: c.on_hand_delta,
              reservedDelta: c.reserved_delta,
              incomingDelta: c.incoming_delta,
            })),
        };
      else if (r.type.startsWith('order.'))
        data = {
          ...data,
          lines: lines
            .filter((l) => l.reservation_id === data.reservationId)
            .map((l) => ({ sku: l.sku, warehouseCode: l.warehouse_code, quantity: l.quantity })),
        };
      position += 1;
      const event = cloudEvent(r.event_id, source, r.type, r.subject, r.time_iso, position, data);
      updates.push([position, JSON.stringify(event), r.id]);
      const derived = derivedType(r.type, data);
      if (derived) {
        position += 1;
        const id = derivedId(r.event_id, derived);
        const derivedData =
          r.type === 'stock.changed'
            ? {
                sku: r.sku,
                warehouseCode: r.warehouse_code,
                available: (data.after as { available: number }).available,
                version: data.toVersion,
                changeId: r.event_id,
              }
            : { campaignId: r.subject, sku: r.sku, warehouseCode: r.warehouse_code, changeId: r.event_id };
        const envelope = cloudEvent(id, source, derived, r.subject, r.time_iso, position, derivedData);
        implied.push([
          id,
          r.txid,
          derived,
          r.subject,
          r.sku,
          r.warehouse_code,
          JSON.stringify(derivedData),
          r.time_iso,
          position,
          JSON.stringify(envelope),
        ]);
      }
    }
    await tx.batch('UPDATE event_outbox SET position = ?, event = ? WHERE id = ?', updates);
    if (implied.length > 0)
      await tx.batch(
        `INSERT INTO event_outbox (event_id, txid, type, subject, sku, warehouse_code, data, time, position, event)
         VALUES (?, ?, ?, ?, ?, ?, ?, STR_TO_DATE(?, '%Y-%m-%dT%H:%i:%s.%fZ'), ?, ?)`,
        implied,
      );
    return updates.length + implied.length;
  });
}

/** The feed's query (data/events/feed.ts FeedQuery). */
export interface MariadbFeedQuery {
  readonly after: bigint;
  readonly limit: number;
  readonly types?: readonly string[];
  readonly sku?: string;
}

/**
 * One page, in one statement (one read view): the page and the head it searched come from the
 * same moment, so a last page may move the cursor to that head without skipping anything.
 */
export async function readMariadbFeed(pool: Pool, query: MariadbFeedQuery): Promise<FeedPage> {
  const types = query.types && query.types.length > 0 ? [...query.types] : [];
  const where = [
    'position > ?',
    ...(types.length > 0 ? [`type IN (${types.map(() => '?').join(', ')})`] : []),
    ...(query.sku !== undefined ? ['sku = ?'] : []),
  ].join(' AND ');
  const params = [query.after.toString(), ...types, ...(query.sku !== undefined ? [query.sku] : []), query.limit + 1];
  const rows = await pool.query<{ position: number | null; event: unknown; head: number }[]>(
    `SELECT p.position, p.event, h.head
       FROM (SELECT COALESCE(MAX(position), 0) AS head FROM event_outbox) h
       LEFT JOIN (SELECT position, event FROM event_outbox WHERE ${where} ORDER BY position LIMIT ?) p ON TRUE
      ORDER BY p.position`,
    params,
  );
  const found = rows.filter((r) => r.position !== null);
  const hasMore = found.length > query.limit;
  const page = found.slice(0, query.limit);
  const head = BigInt(rows[0]?.head ?? 0);
  const nextCursor = hasMore ? BigInt(page[page.length - 1].position!) : head > query.after ? head : query.after;
  return {
    data: page.map((r) => jsonValue(r.event) as CloudEvent),
    hasMore,
    nextCursor: nextCursor.toString(),
  };
}

/** A channel's cursor, created at 0 the first time (INSERT IGNORE: a racing creator is harmless). */
export async function mariadbChannelCursor(pool: Pool, channel: string): Promise<bigint> {
  await pool.query('INSERT IGNORE INTO event_channel_cursors (channel) VALUES (?)', [channel]);
  const [row] = await pool.query<{ position: number }[]>(
    'SELECT position FROM event_channel_cursors WHERE channel = ?',
    [channel],
  );
  return BigInt(row?.position ?? 0);
}

/** Up to `limit` positioned events after `after`, in position order. */
export async function mariadbEventsAfter(
  pool: Pool,
  after: bigint,
  limit: number,
): Promise<{ position: bigint; type: string; sku: string | null; warehouseCode: string | null; event: CloudEvent }[]> {
  const rows = await pool.query<
    { position: number; type: string; sku: string | null; warehouse_code: string | null; event: unknown }[]
  >(
    'SELECT position, type, sku, warehouse_code, event FROM event_outbox WHERE position > ? ORDER BY position LIMIT ?',
    [after.toString(), limit],
  );
  return rows.map((r) => ({
    position: BigInt(r.position),
    type: r.type,
    sku: r.sku,
    warehouseCode: r.warehouse_code,
    event: jsonValue(r.event) as CloudEvent,
  }));
}

/** Moves a channel's cursor to `position`, never back. */
export async function advanceMariadbCursor(pool: Pool, channel: string, position: bigint): Promise<void> {
  await pool.query(
    `INSERT INTO event_channel_cursors (channel, position) VALUES (?, ?)
     ON DUPLICATE KEY UPDATE position = GREATEST(position, VALUES(position)), updated_at = UTC_TIMESTAMP(3)`,
    [channel, position.toString()],
  );
}

/** The backlog: committed events not yet positioned (and the oldest one's age), and every channel's lag. */
export async function mariadbEventBacklog(pool: Pool): Promise<{
  unpositioned: number;
  unpositionedOldestSeconds: number;
  channels: { channel: string; lagPositions: number; lagSeconds: number }[];
}> {
  const [totals] = await pool.query<{ n: number; oldest: number | string | null }[]>(
    `SELECT COUNT(*) AS n, TIMESTAMPDIFF(MICROSECOND, MIN(time), UTC_TIMESTAMP(3)) / 1e6 AS oldest
       FROM event_outbox WHERE position IS NULL`,
  );
  const channels = await pool.query<{ channel: string; lag: number; seconds: number | string | null }[]>(
    `SELECT c.channel, GREATEST(h.head - c.position, 0) AS lag,
            (SELECT TIMESTAMPDIFF(MICROSECOND, o.time, UTC_TIMESTAMP(3)) / 1e6 FROM event_outbox o
              WHERE o.position > c.position ORDER BY o.position LIMIT 1) AS seconds
       FROM event_channel_cursors c
      CROSS JOIN (SELECT COALESCE(MAX(position), 0) AS head FROM event_outbox) h ORDER BY c.channel`,
  );
  return {
    unpositioned: Number(totals.n),
    unpositionedOldestSeconds: Math.max(0, Number(totals.oldest ?? 0)),
    channels: channels.map((c) => ({
      channel: c.channel,
      lagPositions: Number(c.lag),
      lagSeconds: Math.max(0, Number(c.seconds ?? 0)),
    })),
  };
}

/**
 * Deletes up to `batch` positioned events older than `days`, lowest positions first, never one
 * a channel has not passed (the lowest channel cursor bounds it, and the lowest ACTIVE
 * subscription's), and never the highest
 * position: the next pass numbers from it, so positions are never given twice even when
 * everything else has expired. ACTIVE webhook subscriptions' cursors bound it too.
 * The candidates are read first, then deleted by id: MySQL cannot DELETE from a table its own
 * subquery reads.
 */
export async function deleteExpiredMariadbEvents(pool: Pool, days: number, batch: number): Promise<number> {
  const rows = await pool.query<{ id: number }[]>(
    `SELECT id FROM event_outbox
      WHERE position IS NOT NULL
        AND position <= COALESCE((SELECT MIN(position) FROM event_channel_cursors), position)
        AND position <= COALESCE((SELECT MIN(\`cursor\`) FROM event_subscriptions WHERE status = 'ACTIVE'), position)
        AND position < (SELECT MAX(position) FROM event_outbox)
        AND time < UTC_TIMESTAMP(3) - INTERVAL ? DAY
      ORDER BY position LIMIT ?`,
    [days, batch],
  );
  if (rows.length === 0) return 0;
  const result = await pool.query<{ affectedRows: number }>(
    `DELETE FROM event_outbox WHERE id IN (${rows.map(() => '?').join(', ')})`,
    rows.map((r) => r.id),
  );
  return result.affectedRows;
}
