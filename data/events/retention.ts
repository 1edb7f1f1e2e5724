/**
 * Retention (EVENT_RETENTION_DAYS): positioned events older than the retention are deleted in
 * batches by a periodic job. Never an unpositioned event (its transaction's channels have not
 * seen it), never one a channel has not passed (its cursor in event_channel_cursors, or an
 * ACTIVE webhook subscription's cursor in event_subscriptions), so a channel or a receiver that
 * is down for longer than the retention loses nothing: its events wait for it. A disabled
 * subscription does not hold them (it may stay disabled for good): re-enabled after more than
 * the retention, it resumes at the oldest event left, and the versions show it the gap.
 * Reconciliation's version chain check judges each level's chain from its first remaining
 * event (versions.ts), so deleting a prefix keeps it valid.
 */
import { PollingLoop } from '../../platform/polling-loop';
import type { Db } from '../db';
import { deleteExpiredMariadbEvents } from '../mariadb/events';
import { mariadbOf } from '../mariadb/db';

/** Events one statement deletes at most: keep each short. */
export const RETENTION_BATCH = 5_000;

/**
 * One batch: the oldest positioned events (lowest positions) at or below every channel's and
 * every active subscription's cursor whose time is older than `days`, never the last positioned
 * one (the head the next positions are numbered from). Returns how many were deleted.
 */
export async function deleteExpiredEvents(db: Db, days: number, batch = RETENTION_BATCH): Promise<number> {
  const maria = mariadbOf(db);
  if (maria) return deleteExpiredMariadbEvents(maria, days, batch);
  return db.$executeRaw`
    DELETE FROM event_outbox WHERE id IN (
      SELECT id FROM event_outbox
       WHERE position IS NOT NULL
         AND position <= COALESCE((SELECT min(position) FROM event_channel_cursors), position)
         AND position <= COALESCE((SELECT min(cursor) FROM event_subscriptions WHERE status = 'ACTIVE'), position)
         AND time < clock_timestamp() - make_interval(days => ${days}::int)
         -- The head stays: positions are numbered from the highest one in the table, so deleting
         -- it would number the next events from 1 again, below every reader's cursor.
         AND position < (SELECT max(position) FROM event_outbox)
       ORDER BY position LIMIT ${batch}::int)`;
}

/** Batches until a batch comes back short; returns the total deleted. */
export async function deleteAllExpiredEvents(db: Db, days: number, batch = RETENTION_BATCH): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await deleteExpiredEvents(db, days, batch);
    total += n;
    if (n < batch) return total;
  }
}

export interface RetentionOptions {
  readonly days: number;
  readonly intervalMs: number;
  readonly batch?: number;
  readonly onDeleted?: (count: number) => void;
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

/** One batch per pass; a full batch means more may be old: the next pass runs at once. */
class EventRetention extends PollingLoop {
  constructor(
    private readonly db: Db,
    private readonly options: RetentionOptions,
  ) {
    super('event retention', options);
  }

  protected async pass(): Promise<boolean> {
    const batch = this.options.batch ?? RETENTION_BATCH;
    const n = await deleteExpiredEvents(this.db, this.options.days, batch);
    if (n > 0) this.options.onDeleted?.(n);
    return n === batch;
  }
}

/**
 * The periodic job (the worker's): one run at start, then every `intervalMs`. Several workers
 * may run it at once: each batch deletes what is still there.
 */
export function startEventRetention(db: Db, options: RetentionOptions): { stop(): Promise<void> } {
  return new EventRetention(db, options).start();
}
