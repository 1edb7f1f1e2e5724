/**
 * The service's `Db` on MySQL/MariaDB (issue 22, docs/mysql.md "Status"): a pool of the
 * `mariadb` driver under `db.mariadb`, which every data function that runs there uses, and
 * Prisma's MySQL client (prisma/mysql/schema.prisma over `@prisma/adapter-mariadb`) for the
 * plain reads written with it ({@link mysqlPrismaOf}).
 *
 * Everything else of the PostgreSQL Prisma client (`$queryRaw`, `$transaction`, the model
 * delegates) is PostgreSQL's SQL and is not there: touching it throws `STORE_NOT_SUPPORTED`
 * (HTTP 501, a retryable activity failure) before any statement is sent, so a path not built
 * for MariaDB yet answers "not on this store" and changes nothing, never a half-run PostgreSQL
 * statement. The MySQL client is never reachable under those names: only through
 * `mysqlPrismaOf`, which the MariaDB modules call.
 */
import type { Pool } from 'mariadb';
import { PrismaMariaDb } from '@prisma/adapter-mariadb';
import { PrismaClient as MysqlPrismaClient } from '../../generated/prisma-mysql/client';
import { DomainError, ErrorCode } from '../../domain/errors';
import { createMariadbPool, mariadbConfig } from '../../platform/mariadb';

export type MariadbPool = Pool;

/**
 * Prisma's MySQL client as the MariaDB modules get it: the model delegates and `$queryRaw`,
 * for reads without locks (lists, pages, counts). No `$transaction`, no raw writes, no
 * connection control: a transaction on MariaDB sets its isolation level explicitly
 * (data/mariadb/tx.ts, docs/mysql.md "Isolation levels") and the hot paths (holds, the batch,
 * confirms, webhooks) stay on the driver; the client's connections close with the Db's
 * `$disconnect`.
 */
export type MysqlPrisma = Omit<
  MysqlPrismaClient,
  | '$transaction'
  | '$executeRaw'
  | '$executeRawUnsafe'
  | '$queryRawUnsafe'
  | '$connect'
  | '$disconnect'
  | '$on'
  | '$extends'
>;

/** Where the Db keeps Prisma's MySQL client: a symbol, so no PostgreSQL path can name it. */
const MYSQL_PRISMA = Symbol('stockhold.mysqlPrisma');

/** Connections of the Prisma client's own pool: its reads are lists, never the hot paths. */
const PRISMA_CONNECTIONS = 4;

/**
 * Prisma's MySQL client on `databaseUrl`, over a pool of its own (the adapter's: it ends it on
 * `$disconnect`). Its sessions are the service's (UTC, the lock wait), BIGINT read as BigInt
 * (Prisma's BigInt fields). DATETIME(3) needs no zone rule here: the adapter reads it as text
 * and takes it as UTC, and writes a Date as its UTC fields, whatever the process's zone.
 */
export function createMysqlPrisma(databaseUrl: string, connections = PRISMA_CONNECTIONS): MysqlPrismaClient {
  // Field by field: the adapter creates the pool with the driver version it pins.
  const { host, port, user, password, database, connectionLimit, initSql } = mariadbConfig(databaseUrl, {
    connectionLimit: connections,
    lockWaitSeconds: 3,
  });
  const adapter = new PrismaMariaDb({
    host,
    port,
    user,
    password,
    database,
    connectionLimit,
    initSql,
    bigIntAsNumber: false,
    insertIdAsNumber: false,
  });
  return new MysqlPrismaClient({ adapter });
}

/** What a path that does not run on MySQL/MariaDB yet throws. */
export function notOnThisStore(what: string): DomainError {
  return new DomainError(
    ErrorCode.STORE_NOT_SUPPORTED,
    `${what} does not run on MySQL/MariaDB yet (docs/mysql.md "Status" lists what does); nothing was changed`,
  );
}

/**
 * The `Db` of a mysql:// or mariadb:// URL (data/db.ts createDb types it): the pool, Prisma's
 * MySQL client (under a name of its own, never the PostgreSQL client's), the commit listener.
 */
export function createMariadbDb(databaseUrl: string, maxConnections = 10): object {
  const pool = createMariadbPool(databaseUrl, {
    connectionLimit: maxConnections,
    lockWaitSeconds: 3,
  });
  // Connects on its first query: a process that never lists opens none of its connections.
  const prisma = createMysqlPrisma(databaseUrl, Math.min(maxConnections, PRISMA_CONNECTIONS));
  const own: Record<string | symbol, unknown> = {
    mariadb: pool,
    [MYSQL_PRISMA]: prisma,
    afterCommit: undefined,
    $connect: async () => undefined,
    // Both close even when one fails (the pool already ended): the first failure is reported.
    $disconnect: async () => {
      const closed = await Promise.allSettled([pool.end(), prisma.$disconnect()]);
      const failed = closed.find((c) => c.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
  return new Proxy(own, {
    get(target, prop) {
      if (prop in target) return target[prop];
      // Not a thenable, and other symbols (inspection, iteration) read as absent.
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

/**
 * Prisma's MySQL client when `db` is on MySQL/MariaDB, else undefined (the PostgreSQL path
 * runs). For the MariaDB modules' plain reads (docs/mysql.md "Prisma's MySQL client").
 */
export function mysqlPrismaOf(db: object): MysqlPrisma | undefined {
  return (db as { [MYSQL_PRISMA]?: MysqlPrisma })[MYSQL_PRISMA];
}

/** The pool when `db` is on MySQL/MariaDB, else undefined (the PostgreSQL path runs). */
export function mariadbOf(db: { readonly mariadb?: Pool }): Pool | undefined {
  return db.mariadb;
}
