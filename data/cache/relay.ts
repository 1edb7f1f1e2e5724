/**
 * The cache relay: applies outbox rows to Redis — delete the entries, then rebuild them from
 * PostgreSQL — and deletes the rows only once both are done. A failure (Redis down, breaker
 * open, PostgreSQL gone) leaves the rows for a later attempt with backoff, so an
 * invalidation is retried until Redis has it.
 *
 * It runs inside the worker process (one loop per worker; SKIP LOCKED shares the outbox),
 * rather than as a Temporal activity per row: the work is tiny and frequent, and its
 * durability already comes from the outbox table, not from workflow history.
 */
import type { Db } from '../db';
import type { Metrics } from '../../platform/metrics';
import { PollingLoop, type PollingLoopOptions } from '../../platform/polling-loop';
import { rebuild } from './read-through';
import { claimDue, completeRows, rescheduleRows } from './outbox';
import { mariadbOf } from '../mariadb/db';
import { claimDueOnMariadb, completeRowsOnMariadb, rescheduleRowsOnMariadb } from '../mariadb/cache';
import { inMariadbTx } from '../mariadb/tx';
import type { StockCache } from './stock-cache';

/** What one pass did: rows applied and rows put back for a retry. */
export interface DrainResult {
  readonly applied: number;
  readonly retried: number;
}

export interface RelayOptions extends PollingLoopOptions {
  readonly batch: number;
}

/** One pass over the due rows (at most one batch). */
export async function drainOnce(db: Db, cache: StockCache, batch: number, metrics?: Metrics): Promise<DrainResult> {
  const maria = mariadbOf(db);
  if (maria) {
    // The same pass on MySQL/MariaDB: the claimed rows stay locked (SKIP LOCKED for the other
    // relays) until they are deleted, once applied, or rescheduled.
    return inMariadbTx(maria, async (tx) => {
      const rows = await claimDueOnMariadb(tx, batch);
      if (rows.length === 0) return { applied: 0, retried: 0 };
      const ids = rows.map((r) => r.id);
      if (!(await apply(db, cache, rows))) {
        await rescheduleRowsOnMariadb(tx, ids);
        metrics?.cacheRelayed.inc({ result: 'retry' }, ids.length);
        return { applied: 0, retried: ids.length };
      }
      await completeRowsOnMariadb(tx, ids);
      metrics?.cacheRelayed.inc({ result: 'applied' }, ids.length);
      return { applied: ids.length, retried: 0 };
    });
  }
  return db.$transaction(
    async (tx) => {
      const rows = await claimDue(tx, batch);
      if (rows.length === 0) return { applied: 0, retried: 0 };
      const ids = rows.map((r) => r.id);
      const skus = [...new Set(rows.map((r) => r.sku))];
      try {
        await cache.invalidate(skus);
        await rebuild(db, cache, skus);
      } catch {
        await rescheduleRows(tx, ids);
        metrics?.cacheRelayed.inc({ result: 'retry' }, ids.length);
        return { applied: 0, retried: ids.length };
      }
      await completeRows(tx, ids);
      metrics?.cacheRelayed.inc({ result: 'applied' }, ids.length);
      return { applied: ids.length, retried: 0 };
    },
    { maxWait: 10_000, timeout: 60_000 },
  );
}

/** Drops the rows' SKUs from Redis and refills them from the database; false when either failed. */
async function apply(db: Db, cache: StockCache, rows: readonly { sku: string }[]): Promise<boolean> {
  const skus = [...new Set(rows.map((r) => r.sku))];
  try {
    await cache.invalidate(skus);
    await rebuild(db, cache, skus);
    return true;
  } catch {
    return false;
  }
}

/** The relay loop; `stop()` waits for the pass in progress. */
export class CacheRelay extends PollingLoop {
  constructor(
    private readonly db: Db,
    private readonly cache: StockCache,
    private readonly options: RelayOptions,
    private readonly metrics?: Metrics,
  ) {
    super('cache relay', options);
  }

  /** A full batch means more may be waiting: the loop goes again at once. */
  protected async pass(): Promise<boolean> {
    const result = await drainOnce(this.db, this.cache, this.options.batch, this.metrics);
    return result.applied === this.options.batch;
  }
}
