/**
 * What a subscription's loop sends, and `event_deliveries`: the record of each event whose
 * delivery to a subscription failed at least once (a first-time success leaves no row). The
 * events are read as positioned — the stored envelope's text, sent as is — after the
 * subscription's cursor, through its filter, in position order.
 */
import type { Db } from '../db';
import { mariadbOf } from '../mariadb/db';
import {
  eventAtOnMariadb,
  getDeliveryOnMariadb,
  listDeliveriesOnMariadb,
  nextEventsOnMariadb,
  pendingRetryOnMariadb,
  recordAttemptOnMariadb,
} from '../mariadb/event-subscriptions';

/** A positioned event as sent: `body` is the stored CloudEvent's text. */
export interface OutgoingEvent {
  readonly position: bigint;
  readonly eventId: string;
  readonly type: string;
  readonly time: Date;
  readonly body: string;
}

/** How far past the cursor one read looks for a matching event (a filter that matches rarely still moves on). */
export const SCAN_WINDOW = 5_000;

/**
 * The next events for a subscription after `after`, through its filter (types: exact or
 * `family.*`; skus; warehouses; empty: all), at most `limit`, and `scannedTo`: the position
 * up to which everything was looked at (a cursor may move there when no event matched).
 * `head` is the feed's last position (the backlog is head − cursor).
 */
export async function nextEvents(
  db: Db,
  subscriptionId: string,
  after: bigint,
  limit: number,
): Promise<{ events: OutgoingEvent[]; scannedTo: bigint; head: bigint }> {
  const maria = mariadbOf(db);
  if (maria) return nextEventsOnMariadb(maria, subscriptionId, after, limit, SCAN_WINDOW);
  const rows = await db.$queryRaw<
    {
      position: bigint | null;
      event_id: string | null;
      type: string | null;
      time: Date | null;
      body: string | null;
      head: bigint;
    }[]
  >`
    WITH head AS (SELECT COALESCE(max(position), 0) AS head FROM event_outbox),
    page AS (
      SELECT o.position, o.event_id, o.type, o.time, o.event::text AS body
        FROM event_outbox o, event_subscriptions s
       WHERE s.id = ${subscriptionId}
         AND o.position > ${after}::bigint AND o.position <= ${after + BigInt(SCAN_WINDOW)}::bigint
         AND (cardinality(s.types) = 0 OR EXISTS (
               SELECT 1 FROM unnest(s.types) t WHERE o.type = t OR (right(t, 2) = '.*' AND left(o.type, length(t) - 1) = left(t, -1))))
         AND (cardinality(s.skus) = 0 OR o.sku = ANY(s.skus))
         AND (cardinality(s.warehouses) = 0 OR o.warehouse_code = ANY(s.warehouses))
       ORDER BY o.position LIMIT ${limit})
    SELECT p.position, p.event_id, p.type, p.time, p.body, h.head FROM head h LEFT JOIN page p ON true ORDER BY p.position`;
  const head = rows[0]?.head ?? 0n;
  const events = rows
    .filter((r) => r.position !== null)
    .map((r) => ({ position: r.position!, eventId: r.event_id!, type: r.type!, time: r.time!, body: r.body! }));
  const windowEnd = after + BigInt(SCAN_WINDOW);
  const scannedTo =
    events.length === limit
      ? events[events.length - 1].position
      : windowEnd < head
        ? windowEnd
        : head > after
          ? head
          : after;
  return { events, scannedTo, head };
}

/** One positioned event by position. */
export async function eventAt(db: Db, position: bigint): Promise<OutgoingEvent | undefined> {
  const maria = mariadbOf(db);
  if (maria) return eventAtOnMariadb(maria, position);
  const [r] = await db.$queryRaw<{ position: bigint; event_id: string; type: string; time: Date; body: string }[]>`
    SELECT position, event_id, type, time, event::text AS body FROM event_outbox WHERE position = ${position}`;
  return r ? { position: r.position, eventId: r.event_id, type: r.type, time: r.time, body: r.body } : undefined;
}

export type DeliveryStatus = 'RETRYING' | 'DEAD' | 'DELIVERED';

export interface DeliveryRecord {
  readonly subscriptionId: string;
  readonly position: bigint;
  readonly eventId: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAt: Date | null;
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly firstFailedAt: Date;
  readonly updatedAt: Date;
}

/** The subscription's waiting retry (the loop's head of line), if any. */
export async function pendingRetry(db: Db, subscriptionId: string): Promise<DeliveryRecord | undefined> {
  const maria = mariadbOf(db);
  if (maria) return pendingRetryOnMariadb(maria, subscriptionId);
  const r = await db.eventDelivery.findFirst({
    where: { subscriptionId, status: 'RETRYING' },
    orderBy: { position: 'asc' },
  });
  return r ? (r as DeliveryRecord) : undefined;
}

export async function getDelivery(
  db: Db,
  subscriptionId: string,
  position: bigint,
): Promise<DeliveryRecord | undefined> {
  const maria = mariadbOf(db);
  if (maria) return getDeliveryOnMariadb(maria, subscriptionId, position);
  const r = await db.eventDelivery.findUnique({ where: { subscriptionId_position: { subscriptionId, position } } });
  return r ? (r as DeliveryRecord) : undefined;
}

/** Deliveries of a subscription (a status, or all), oldest position first. */
export async function listDeliveries(
  db: Db,
  subscriptionId: string,
  status: DeliveryStatus | undefined,
  limit: number,
): Promise<DeliveryRecord[]> {
  const maria = mariadbOf(db);
  if (maria) return listDeliveriesOnMariadb(maria, subscriptionId, status, limit);
  return (await db.eventDelivery.findMany({
    where: { subscriptionId, status },
    orderBy: { position: 'asc' },
    take: limit,
  })) as DeliveryRecord[];
}

/** Records an attempt's result for an event (creates the record at its first failure). */
export async function recordAttempt(
  db: Db,
  d: {
    subscriptionId: string;
    position: bigint;
    eventId: string;
    status: DeliveryStatus;
    attempts: number;
    nextAttemptAt: Date | null;
    lastStatus: number | null;
    lastError: string | null;
    at: Date;
  },
): Promise<void> {
  const maria = mariadbOf(db);
  if (maria) return recordAttemptOnMariadb(maria, d);
  // One statement (Prisma's upsert may be a read and a write in a transaction).
  await db.$executeRaw`
    INSERT INTO event_deliveries (subscription_id, position, event_id, status, attempts, next_attempt_at, last_status, last_error, first_failed_at, updated_at)
    VALUES (${d.subscriptionId}, ${d.position}, ${d.eventId}, ${d.status}, ${d.attempts}, ${d.nextAttemptAt}, ${d.lastStatus}, ${d.lastError}, ${d.at}, ${d.at})
    ON CONFLICT (subscription_id, position) DO UPDATE
      SET status = EXCLUDED.status, attempts = EXCLUDED.attempts, next_attempt_at = EXCLUDED.next_attempt_at,
          last_status = EXCLUDED.last_status, last_error = EXCLUDED.last_error, updated_at = EXCLUDED.updated_at`;
}
