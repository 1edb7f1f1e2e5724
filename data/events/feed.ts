/**
 * The pull feed (GET /events): positioned events after a cursor, in position order. Read in
 * one statement, so the page, `hasMore` and the head the cursor may skip to all come from
 * one snapshot: a position is never given behind one already read (assign.ts), so a cursor
 * never skips an event, whatever the filters.
 */
import type { Db } from '../db';
import { readMariadbFeed } from '../mariadb/events';
import { mariadbOf } from '../mariadb/db';
import type { CloudEvent, FeedPage } from './types';

export interface FeedQuery {
  /** The last position the consumer has (0 or absent: from the start). */
  readonly after: bigint;
  readonly limit: number;
  /** Only these types (absent: all). */
  readonly types?: readonly string[];
  /** Only events about this SKU (stock, campaign and alert events; order events name several). */
  readonly sku?: string;
}

interface Row {
  position: bigint;
  event: CloudEvent | null;
  head: bigint;
}

/** One page. A last page moves the cursor to the head it searched up to, even if it is empty. */
export async function readFeed(db: Db, query: FeedQuery): Promise<FeedPage> {
  const maria = mariadbOf(db);
  if (maria) return readMariadbFeed(maria, query);
  const types = query.types && query.types.length > 0 ? [...query.types] : null;
  const sku = query.sku ?? null;
  // The head is read with the page: rows beyond it were not visible to this snapshot.
  const rows = await db.$queryRaw<Row[]>`
    WITH head AS (SELECT COALESCE(max(position), 0) AS head FROM event_outbox),
    page AS (
      SELECT position, event FROM event_outbox
       WHERE position > ${query.after}
         AND (${types}::text[] IS NULL OR type = ANY(${types}::text[]))
         AND (${sku}::text IS NULL OR sku = ${sku}::text)
       ORDER BY position LIMIT ${query.limit + 1})
    SELECT p.position, p.event, h.head FROM head h LEFT JOIN page p ON true ORDER BY p.position`;
  const found = rows.filter((r): r is Row & { event: CloudEvent } => r.event !== null);
  const hasMore = found.length > query.limit;
  const page = found.slice(0, query.limit);
  const head = rows[0]?.head ?? 0n;
  // More to come: resume after the last one shown. Otherwise everything up to the head was
  // searched (matches or not), so the next page starts there.
  const nextCursor = hasMore ? page[page.length - 1].position : head > query.after ? head : query.after;
  return { data: page.map((r) => r.event), hasMore, nextCursor: nextCursor.toString() };
}
