/**
 * `saga_starts`, the order saga's outbox: every query on it outside the hold's own
 * transaction (data/orders/request-hold.ts and the SQL function `stockhold_hold_batch` write
 * the row with the hold, and the request path compares a replay with it). A row says the
 * order's saga must run; `started_at` says Temporal has it. Starting is the caller's
 * (use-cases/order-sagas.ts); this module only reads, leases and marks rows.
 */
import type { Db } from '../db';
import type { OrderWorkflowInput } from '../../domain/order-saga';
import { mariadbOf } from '../mariadb/db';
import {
  findUnstartedSagasOnMariadb,
  leaseDueSagaStartsOnMariadb,
  markSagasStartedOnMariadb,
  sagaOutboxOnMariadb,
} from '../mariadb/saga-starts';

/** Marks rows started, in one statement; a row already marked stays as it was. */
export async function markSagasStarted(db: Db, orderIds: readonly string[]): Promise<void> {
  if (orderIds.length === 0) return;
  const maria = mariadbOf(db);
  if (maria) return markSagasStartedOnMariadb(maria, orderIds);
  await db.$executeRaw`UPDATE saga_starts SET started_at = now() WHERE order_id = ANY(${[...orderIds]}::text[]) AND started_at IS NULL`;
}

/** A saga start due for the relay: its order and the input it starts with. */
export interface DueSagaStart {
  readonly orderId: string;
  readonly input: OrderWorkflowInput;
}

/**
 * Leases up to `batch` unmarked rows older than `graceMs` whose next attempt is due (SKIP
 * LOCKED, so several workers share the work), pushing each one's next attempt out (1 s
 * doubling, capped at a minute) so a failed start is retried on a later pass with backoff.
 */
export async function leaseDueSagaStarts(
  db: Db,
  options: { readonly graceMs: number; readonly batch: number },
): Promise<DueSagaStart[]> {
  const maria = mariadbOf(db);
  if (maria) return leaseDueSagaStartsOnMariadb(maria, options);
  const due = await db.$queryRaw<{ order_id: string; input: OrderWorkflowInput }[]>`
    UPDATE saga_starts SET attempts = attempts + 1,
           next_attempt_at = now() + LEAST(interval '1 second' * power(2, attempts), interval '1 minute')
     WHERE order_id IN (
       SELECT order_id FROM saga_starts
        WHERE started_at IS NULL AND next_attempt_at <= now() AND created_at <= now() - ${options.graceMs} * interval '1 millisecond'
        ORDER BY created_at LIMIT ${options.batch} FOR UPDATE SKIP LOCKED)
    RETURNING order_id, input`;
  return due.map((row) => ({ orderId: row.order_id, input: row.input }));
}

/** An order's saga outbox row: the input its saga is started with, and when it was marked started (null: not yet). */
export async function sagaOutbox(
  db: Db,
  orderId: string,
): Promise<{ input: OrderWorkflowInput; startedAt: Date | null } | undefined> {
  const maria = mariadbOf(db);
  if (maria) return sagaOutboxOnMariadb(maria, orderId);
  const outbox = await db.sagaStart.findUnique({ where: { orderId }, select: { input: true, startedAt: true } });
  return outbox ? { input: outbox.input as unknown as OrderWorkflowInput, startedAt: outbox.startedAt } : undefined;
}

/** The input an order's saga was (or is to be) started with, as the hold recorded it; undefined for an order that held nothing. */
export async function sagaInput(db: Db, orderId: string): Promise<OrderWorkflowInput | undefined> {
  const maria = mariadbOf(db);
  if (maria) return (await sagaOutboxOnMariadb(maria, orderId))?.input;
  const outbox = await db.sagaStart.findUnique({ where: { orderId }, select: { input: true } });
  return outbox?.input as OrderWorkflowInput | undefined;
}

/** Rows still unmarked `olderThanMs` after their hold committed (what reconciliation reports), oldest first. */
export async function findUnstartedSagas(
  db: Db,
  olderThanMs: number,
  limit: number,
): Promise<{ orderId: string; createdAt: string }[]> {
  const maria = mariadbOf(db);
  if (maria) return findUnstartedSagasOnMariadb(maria, olderThanMs, limit);
  const rows = await db.sagaStart.findMany({
    where: { startedAt: null, createdAt: { lt: new Date(Date.now() - olderThanMs) } },
    orderBy: { createdAt: 'asc' },
    take: limit,
  });
  return rows.map((r) => ({ orderId: r.orderId, createdAt: r.createdAt.toISOString() }));
}
