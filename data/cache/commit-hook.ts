/**
 * The fast path of invalidation: right after a stock transaction commits, the process that
 * committed drops the affected cache entries itself, so its own caller (and the next
 * shopper) does not wait for the relay. Best effort only — the outbox row written in the
 * transaction is what guarantees the invalidation if this process dies or Redis is down.
 */
import type { Db, Tx } from '../stock/db';

type Listener = (skus: string[]) => Promise<unknown>;

const touchedByTx = new WeakMap<object, Set<string>>();
const listeners = new WeakMap<object, Listener>();

/** Notes the SKUs a transaction changed (called from writeMovements via the outbox). */
export function noteTouched(tx: Tx, skus: readonly string[]): void {
  const set = touchedByTx.get(tx) ?? new Set<string>();
  for (const sku of skus) set.add(sku);
  touchedByTx.set(tx, set);
}

/** Registers what to do with the SKUs of each committed transaction on `db` (the cache's delete). */
export function onStockCommitted(db: Db, listener: Listener): void {
  listeners.set(db, listener);
}

/** Runs the listener for a committed transaction; its failure never fails the caller. */
export async function stockCommitted(db: Db, tx: Tx | undefined): Promise<void> {
  const skus = tx && touchedByTx.get(tx);
  const listener = listeners.get(db);
  if (!skus || skus.size === 0 || !listener) return;
  await listener([...skus]).catch(() => undefined);
}

/** Runs the listener for SKUs a commit outside a Prisma transaction changed (group commit). */
export async function skusCommitted(db: Db, skus: readonly string[]): Promise<void> {
  const listener = listeners.get(db);
  if (skus.length === 0 || !listener) return;
  await listener([...skus]).catch(() => undefined);
}
