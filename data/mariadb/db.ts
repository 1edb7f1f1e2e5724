/**
 * The service's `Db` on MySQL/MariaDB (issue 22, docs/mysql.md "Status"): a pool of the
 * `mariadb` driver under `db.mariadb`, which every data function that runs there uses.
 *
 * Everything else of the Prisma client (`$queryRaw`, `$transaction`, the model delegates) is
 * PostgreSQL's SQL and is not there: touching it throws `STORE_NOT_SUPPORTED` (HTTP 501, a
 * retryable activity failure) before any statement is sent, so a path not built for MariaDB
 * yet answers "not on this store" and changes nothing, never a half-run PostgreSQL statement.
 */
import type { Pool } from 'mariadb';
import { DomainError, ErrorCode } from '../../domain/errors';
import { createMariadbPool } from '../../platform/mariadb';

export type MariadbPool = Pool;

/** What a path that does not run on MySQL/MariaDB yet throws. */
export function notOnThisStore(what: string): DomainError {
  return new DomainError(
    ErrorCode.STORE_NOT_SUPPORTED,
    `${what} does not run on MySQL/MariaDB yet (docs/mysql.md "Status" lists what does); nothing was changed`,
  );
}

/**
 * The `Db` of a mysql:// or mariadb:// URL (data/db.ts createDb types it): the pool, the
 * commit listener, and nothing of Prisma.
 */
export function createMariadbDb(databaseUrl: string, maxConnections = 10): object {
  const pool = createMariadbPool(databaseUrl, {
    connectionLimit: maxConnections,
    lockWaitSeconds: 3,
  });
  const own: Record<string | symbol, unknown> = {
    mariadb: pool,
    afterCommit: undefined,
    $connect: async () => undefined,
    $disconnect: () => pool.end(),
  };
  return new Proxy(own, {
    get(target, prop) {
      if (prop in target) return target[prop];
      // Not a thenable, and symbols (inspection, iteration) read as absent.
      if (prop === 'then' || typeof prop === 'symbol') return undefined;
      throw notOnThisStore(`this path (Prisma's ${String(prop)})`);
    },
    set(target, prop, value) {
      if (prop !== 'afterCommit') return false;
      target[prop] = value;
      return true;
    },
  });
}

/** The pool when `db` is on MySQL/MariaDB, else undefined (the PostgreSQL path runs). */
export function mariadbOf(db: { readonly mariadb?: Pool }): Pool | undefined {
  return db.mariadb;
}
