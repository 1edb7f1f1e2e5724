/**
 * Push channels' cursors (event_channel_cursors): each channel (NATS today, webhooks later)
 * reads positioned events after its cursor, in position order, sends the stored envelope as
 * is, and moves its cursor only after the far side acknowledged. A crash between the two sends
 * the same events again (same ids): the channel's dedupe (NATS: Nats-Msg-Id) or the
 * consumer's drops them. Nothing here knows a broker.
 */
import type { Db } from '../db';
import { advanceMariadbCursor, mariadbChannelCursor, mariadbEventBacklog, mariadbEventsAfter } from '../mariadb/events';
import { mariadbOf } from '../mariadb/db';
import type { CloudEvent } from './types';

/** A positioned event as a channel reads it: its position, its routing keys and the stored envelope. */
export interface ChannelEvent {
  readonly position: bigint;
  readonly type: string;
  readonly sku: string | null;
  readonly warehouseCode: string | null;
  readonly event: CloudEvent;
}

/**
 * The bytes every push channel sends for an event: the stored envelope as compact JSON (keys
 * in PostgreSQL's jsonb order). One function, so NATS and webhooks send the same bytes.
 */
export function eventBytes(event: CloudEvent): Buffer {
  return Buffer.from(JSON.stringify(event), 'utf8');
}

/** The channel's cursor, creating it at 0 (from the first retained event) the first time. */
export async function channelCursor(db: Db, channel: string): Promise<bigint> {
  const maria = mariadbOf(db);
  if (maria) return mariadbChannelCursor(maria, channel);
  const [row] = await db.$queryRaw<{ position: bigint }[]>`
    WITH created AS (INSERT INTO event_channel_cursors (channel) VALUES (${channel}) ON CONFLICT (channel) DO NOTHING RETURNING position)
    SELECT position FROM created UNION ALL SELECT position FROM event_channel_cursors WHERE channel = ${channel}`;
  return row?.position ?? 0n;
}

/** Up to `limit` positioned events after `after`, in position order. */
export async function eventsAfter(db: Db, after: bigint, limit: number): Promise<ChannelEvent[]> {
  const maria = mariadbOf(db);
  if (maria) return mariadbEventsAfter(maria, after, limit);
  const rows = await db.$queryRaw<
    { position: bigint; type: string; sku: string | null; warehouse_code: string | null; event: CloudEvent }[]
  >`
    SELECT position, type, sku, warehouse_code, event FROM event_outbox
     WHERE position > ${after} ORDER BY position LIMIT ${limit}`;
  return rows.map((r) => ({
    position: r.position,
    type: r.type,
    sku: r.sku,
    warehouseCode: r.warehouse_code,
    event: r.event,
  }));
}

/** Moves the channel's cursor to `position` (never back: two publishers racing leave the higher one). */
export async function advanceCursor(db: Db, channel: string, position: bigint): Promise<void> {
  const maria = mariadbOf(db);
  if (maria) return advanceMariadbCursor(maria, channel, position);
  await db.$executeRaw`
    INSERT INTO event_channel_cursors (channel, position) VALUES (${channel}, ${position})
    ON CONFLICT (channel) DO UPDATE SET position = GREATEST(event_channel_cursors.position, EXCLUDED.position), updated_at = clock_timestamp()`;
}

/** A channel's lag: positions behind the head, and the age of the oldest event it has not delivered. */
export interface ChannelLag {
  readonly channel: string;
  readonly lagPositions: number;
  readonly lagSeconds: number;
}

/** The event backlog: committed events not yet positioned (and the oldest one's age), and every channel's lag. */
export interface EventBacklog {
  readonly unpositioned: number;
  readonly unpositionedOldestSeconds: number;
  readonly channels: ChannelLag[];
}

/** One statement, on the unpositioned and position indexes. */
export async function eventBacklog(db: Pick<Db, '$queryRawUnsafe' | 'mariadb'>): Promise<EventBacklog> {
  const maria = mariadbOf(db);
  if (maria) return mariadbEventBacklog(maria);
  const [totals] = await db.$queryRawUnsafe<{ n: number; oldest: number }[]>(`
    SELECT count(*)::int AS n, COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(time)), 0)::float8 AS oldest
      FROM event_outbox WHERE position IS NULL`);
  const channels = await db.$queryRawUnsafe<{ channel: string; lag: number; seconds: number }[]>(`
    WITH head AS (SELECT COALESCE(max(position), 0) AS head FROM event_outbox)
    SELECT c.channel, GREATEST(h.head - c.position, 0)::float8 AS lag,
           COALESCE((SELECT EXTRACT(EPOCH FROM clock_timestamp() - o.time) FROM event_outbox o
                      WHERE o.position = (SELECT min(position) FROM event_outbox WHERE position > c.position)), 0)::float8 AS seconds
      FROM event_channel_cursors c CROSS JOIN head h ORDER BY c.channel`);
  return {
    unpositioned: totals.n,
    unpositionedOldestSeconds: totals.oldest,
    channels: channels.map((c) => ({ channel: c.channel, lagPositions: c.lag, lagSeconds: c.seconds })),
  };
}
