/**
 * The `Db` a shared suite's own assertions get in the `mariadb` jest project (jest.config.js):
 * the service's MariaDB `Db`, plus the model delegates (`db.reservation.findUnique`, …) served by
 * Prisma's MySQL client (prisma/mysql/schema.prisma: the same model and field names as
 * PostgreSQL's), so a suite reads and writes its fixtures the same way on both stores.
 *
 * Test-only: the API and the worker under test always get the service's own `Db`
 * ({@link serviceDbOf}), on which a path not built for MariaDB still throws
 * STORE_NOT_SUPPORTED. Raw SQL (`$queryRaw`) is each store's own: a suite with PostgreSQL SQL
 * stays out of the matrix.
 */
import type { Db } from '../../data/db';
import { mariadbOf, mysqlPrismaOf } from '../../data/mariadb/db';
import { TEST_STORE } from './env';

const SERVICE_DB = Symbol('stockhold.test.serviceDb');

/** `db` with Prisma's MySQL model delegates when it is on MariaDB; PostgreSQL's `Db` unchanged. */
export function withModelDelegates(db: Db): Db {
  const prisma = mysqlPrismaOf(db) as unknown as Record<string, unknown> | undefined;
  if (!prisma) return db;
  return new Proxy(db as object, {
    get(target, prop) {
      if (prop === SERVICE_DB) return target;
      if (typeof prop === 'string' && !prop.startsWith('$') && !(prop in target)) {
        const delegate = prisma[prop] as { findMany?: unknown } | undefined;
        if (delegate && typeof delegate.findMany === 'function') return delegate;
      }
      return (target as Record<string | symbol, unknown>)[prop];
    },
    set(target, prop, value) {
      (target as Record<string | symbol, unknown>)[prop] = value;
      return true;
    },
  }) as Db;
}

/**
 * The service's own `Db` behind {@link withModelDelegates} (or `db` itself): what the API and
 * the worker get. In the `mariadb` project it must be MariaDB's: a suite that built its app or
 * worker on PostgreSQL there would pass without testing MariaDB at all.
 */
export function serviceDbOf(db: Db): Db {
  const own = ((db as unknown as Record<symbol, Db | undefined>)[SERVICE_DB] ?? db) as Db;
  if (TEST_STORE === 'mariadb' && !mariadbOf(own))
    throw new Error('the mariadb jest project gave the API or the worker a PostgreSQL Db: use the test helpers');
  return own;
}
