/**
 * Holds taken on the request path: PostgreSQL decides and the API answers at once; the hold
 * commits together with the row that says its saga must run (`saga_starts`), and Temporal
 * closes the transaction afterwards (use-cases/order-sagas.ts starts it).
 *
 * Single-line holds on one pool — a campaign's, or one stock level — go through group commit:
 * one transaction and one round trip (`stockhold_hold_batch`) takes every hold queued while
 * the previous batch ran, in arrival order, each with its own fence row and outcome. Other
 * orders (several lines, or lines left to allocation) take the general reserve in one
 * interactive transaction, with the outbox row in the same transaction.
 */
import { DomainError, ErrorCode } from '../../domain/errors';
import { sameOrder } from '../../domain/lines';
import { Operation, type OrderRequest, type ReserveOutcome } from '../../domain/types';
import { Pool as PgPool } from 'pg';
import type { Pool as MariadbPool } from 'mariadb';
import { GroupCommit } from '../../platform/group-commit';
import { createMariadbPool, isMysqlUrl } from '../../platform/mariadb';
import { pgConfig, type PgSessionSettings } from '../../platform/postgres';
import type { OrderWorkflowInput } from '../../domain/order-saga';
import { sqlFunctionError } from '../sql-errors';
import { assertCatalogued } from '../stock/catalog';
import { currentActor, inKeyLockedTx, readFences, skusCommitted, type Db } from '../db';
import { mariadbOf } from '../mariadb/db';
import { holdBatchOnMariadb, type MariadbBatchItem } from '../mariadb/hold-batch';
import { holdOnMariadb } from '../mariadb/reserve';
import type { BatchItem } from './batch-item';
import { reserveInTx } from './reservations';
import { sagaInput } from './saga-starts';

export type { BatchItem } from './batch-item';

/** Which hot row a batch takes from. */
export type Pool =
  | { readonly kind: 'campaign'; readonly campaignId: string }
  | { readonly kind: 'level'; readonly sku: string; readonly warehouseCode: string };

/** What a hold came to; `replayed`: the order id had been placed before (its first answer). */
export interface HoldResult {
  readonly outcome: ReserveOutcome;
  readonly replayed: boolean;
  /** The order this id was first placed with, when the batch knows it (the same id twice in one batch). */
  readonly placedAs?: OrderRequest;
}

const poolKey = (p: Pool) =>
  p.kind === 'campaign' ? `campaign\u0000${p.campaignId}` : `level\u0000${p.sku}\u0000${p.warehouseCode}`;

/**
 * The batches' own connections: node-postgres on PostgreSQL, the `mariadb` driver on
 * MySQL/MariaDB (holdPoolFor picks by the URL).
 */
export type HoldPool = PgPool | MariadbPool;

/** Group commit of single-line holds, one queue per pool. */
export class HoldBatcher {
  private readonly commit: GroupCommit<{ pool: Pool; item: BatchItem }, HoldResult>;

  /**
   * `pool`: the batches' own connections (node-postgres, or the `mariadb` driver), so a hold never waits for a
   * connection behind the rest of the process's traffic (webhooks, reads); `db` is the Prisma
   * client whose commit listeners drop the cache entries the holds made stale.
   */
  constructor(
    private readonly db: Db,
    private readonly pool: HoldPool,
    maxBatch = 100,
    /** Batches per hot row at once (HOLD_BATCHES_IN_FLIGHT; platform/group-commit.ts says why). */
    inFlight = 1,
  ) {
    this.commit = new GroupCommit(
      (_key, entries) =>
        this.runBatch(
          entries[0].pool,
          entries.map((e) => e.item),
        ),
      maxBatch,
      inFlight,
    );
  }

  /** Whether holds are being taken right now (a batch queued or running). */
  get busy(): boolean {
    return this.commit.busy;
  }

  /** `signal`: aborted while the hold is still queued, it is withdrawn (nothing sent, nothing held). */
  hold(pool: Pool, item: BatchItem, signal?: AbortSignal): Promise<HoldResult> {
    return this.commit.submit(poolKey(pool), { pool, item }, signal);
  }

  /**
   * Runs one batch. The same serial twice in a batch is sent once, as it came first: the
   * first caller gets its outcome, a later one the same outcome as a replay, with the first
   * order to compare (assertSameOrder): a different body is another order, never a hold
   * taken with the other caller's lines, user or amount.
   */
  private async runBatch(pool: Pool, items: BatchItem[]): Promise<HoldResult[]> {
    const first = new Map<string, BatchItem>();
    for (const item of items) if (!first.has(item.serial)) first.set(item.serial, item);
    const unique = [...first.values()];
    const results = (await this.send(pool, unique)).map(unwrap);
    // After the commit, never inside it: drop the cache entry the holds made stale.
    if (pool.kind === 'level' && results.some((r) => !r.replayed && r.outcome.status === 'reserved'))
      void skusCommitted(this.db, [pool.sku]);
    const bySerial = new Map(unique.map((item, i) => [item.serial, results[i]]));
    return items.map((item) => {
      const result = bySerial.get(item.serial)!;
      const firstItem = first.get(item.serial)!;
      return item === firstItem ? result : { outcome: result.outcome, replayed: true, placedAs: firstItem.saga.order };
    });
  }

  /**
   * One round trip: PostgreSQL's function, or MySQL/MariaDB's procedure (data/mariadb/hold-batch.ts,
   * the same items and outcomes). Either refuses a whole batch only with its own codes, and then
   * nothing was recorded.
   */
  private async send(pool: Pool, items: BatchItem[]): Promise<unknown[]> {
    // The procedure keeps the saga's input opaque (MariadbBatchItem): the same items, as sent.
    if (!(this.pool instanceof PgPool))
      return holdBatchOnMariadb(this.pool, pool, items as unknown as readonly MariadbBatchItem[]);
    const [p1, p2] = pool.kind === 'campaign' ? [pool.campaignId, null] : [pool.sku, pool.warehouseCode];
    try {
      const { rows } = await this.pool.query<{ outcomes: unknown }>(
        'SELECT stockhold_hold_batch($1, $2, $3, $4::jsonb) AS outcomes',
        [pool.kind, p1, p2, JSON.stringify(items)],
      );
      return rows[0].outcomes as unknown[];
    } catch (err) {
      // The function's own refusals of the whole batch (nothing was recorded): its SQLSTATEs.
      throw sqlFunctionError(err) ?? err;
    }
  }
}

function unwrap(raw: unknown): HoldResult {
  const r = raw as { replayed?: ReserveOutcome };
  return r.replayed ? { outcome: r.replayed, replayed: true } : { outcome: raw as ReserveOutcome, replayed: false };
}

/**
 * The general hold: the reserve step (allocation, several lines, all or nothing) and, if it
 * held, the saga's outbox row, in one transaction under the order's serial lock; its ledger
 * rows record `actor`.
 */
export async function holdGeneral(
  db: Db,
  saga: OrderWorkflowInput,
  expiresAt: string,
  actor?: string,
): Promise<HoldResult> {
  const { order } = saga;
  const maria = mariadbOf(db);
  if (maria) {
    const held = await holdOnMariadb(maria, {
      serial: order.orderId,
      orderId: order.orderId,
      userId: order.userId,
      lines: order.lines,
      allocation: order.allocation,
      expiresAt: new Date(expiresAt),
      amountCents: order.amountCents,
      actor: currentActor(actor),
      saga: { ...saga },
      catalogCheck: true,
    });
    // After the commit, never inside it: drop the cache entries the hold made stale.
    if (held.outcome.status === 'reserved' && !held.replayed)
      await skusCommitted(
        db,
        held.outcome.lines.map((l) => l.sku),
      );
    return held;
  }
  return inKeyLockedTx(
    db,
    order.orderId,
    async (tx) => {
      const replayed = (await readFences(tx, order.orderId, [Operation.RESERVE])).has(Operation.RESERVE);
      const outcome = await reserveInTx(tx, { ...order, reservationId: order.orderId, expiresAt });
      // A refusal may come of a SKU or warehouse that does not exist: that is a 404, and the
      // throw rolls the refusal's fence back (nothing recorded). Asked only once refused.
      if (!replayed && outcome.status === 'rejected' && outcome.reason === 'INSUFFICIENT_STOCK') {
        await assertCatalogued(
          tx,
          order.lines.map((l) => l.sku),
          order.lines.flatMap((l) => (l.warehouseCode ? [l.warehouseCode] : [])),
        );
      }
      if (!replayed && outcome.status === 'reserved') {
        await tx.sagaStart.create({
          data: { orderId: order.orderId, input: toJson({ ...saga, reservation: outcome }) },
        });
      }
      return { outcome, replayed };
    },
    actor,
  );
}

const toJson = (value: unknown) => JSON.parse(JSON.stringify(value)) as object;

/**
 * A replayed order id must come with the same order: checked against the first order of the
 * same batch, or else the saga input the first hold recorded (a refusal recorded nothing to
 * compare, and is answered as it was).
 */
export async function assertSameOrder(db: Db, order: OrderRequest, result: HoldResult): Promise<void> {
  if (!result.replayed) return;
  let recorded = result.placedAs;
  if (!recorded && result.outcome.status === 'reserved') {
    recorded = (await sagaInput(db, order.orderId))?.order;
  }
  if (recorded && !sameOrder(recorded, order)) {
    throw new DomainError(
      ErrorCode.ORDER_CONFLICT,
      `order ${order.orderId} exists with other lines, user, amount or campaign`,
    );
  }
}

/**
 * The hold batches' connections for the store the URL names: PostgreSQL's (createHoldPool), or
 * on a mysql:// or mariadb:// URL a `mariadb` pool with the service pool's 3 s lock wait.
 */
export function holdPoolFor(databaseUrl: string, max = 4, settings: PgSessionSettings = {}): HoldPool {
  if (isMysqlUrl(databaseUrl)) return createMariadbPool(databaseUrl, { connectionLimit: max, lockWaitSeconds: 3 });
  return createHoldPool(databaseUrl, max, settings);
}

/**
 * The connections of the hold batches: one batch per hot row runs at a time, so a few suffice
 * (HOLD_POOL_MAX). `settings`: TLS and the session timeouts, as for the Prisma pool.
 */
export function createHoldPool(databaseUrl: string, max = 4, settings: PgSessionSettings = {}): PgPool {
  // The connection string's application_name (if any) names these backends like the rest.
  const pool = new PgPool(pgConfig(databaseUrl, settings, max));
  // An idle connection the server dropped (a restart, pg_terminate_backend) is an 'error' event
  // on the pool: without a listener it would crash the process. The pool replaces the client;
  // a batch that was using it fails and its callers get a 503 that holds nothing.
  pool.on('error', () => undefined);
  return pool;
}
