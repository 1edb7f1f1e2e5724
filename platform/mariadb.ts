/**
 * How a MySQL/MariaDB connection of stockhold is made (issue 22, docs/mysql.md): from a
 * `mysql://` or `mariadb://` URL, every session in UTC (timestamps are UTC DATETIME(3)) with a
 * bounded lock wait, so a blocked hot row fails a transaction fast instead of stalling the
 * traffic queued behind it. Each transaction sets its own isolation level (data/mariadb/tx.ts).
 */
import { createConnection, createPool, type Connection, type Pool, type PoolConfig } from 'mariadb';

/** Whether a URL names a MySQL/MariaDB server (not PostgreSQL). */
export function isMysqlUrl(url: string): boolean {
  return /^(mysql|mariadb):\/\//i.test(url);
}

/** What a MariaDB session is given beyond the URL. */
export interface MariadbSessionOptions {
  /** innodb_lock_wait_timeout of each session, in seconds (default 10). */
  readonly lockWaitSeconds?: number;
  /** Connections in the pool (default 10). */
  readonly connectionLimit?: number;
}

/** The driver's settings for a URL: host, port, user, password, database and the session's SQL. */
export function mariadbConfig(url: string, options: MariadbSessionOptions = {}): PoolConfig {
  if (!isMysqlUrl(url)) throw new Error('not a mysql:// or mariadb:// URL');
  const parsed = new URL(url);
  return {
    host: parsed.hostname,
    port: parsed.port ? Number(parsed.port) : 3306,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password) || undefined,
    database: decodeURIComponent(parsed.pathname.replace(/^\//, '')) || undefined,
    connectionLimit: options.connectionLimit ?? 10,
    // BIGINT ids and counts fit a JS number here (ledger ids, versions); an overflow throws.
    bigIntAsNumber: true,
    insertIdAsNumber: true,
    initSql: ["SET time_zone = '+00:00'", `SET SESSION innodb_lock_wait_timeout = ${options.lockWaitSeconds ?? 10}`],
  };
}

/** A pool of sessions on the URL's database. */
export function createMariadbPool(url: string, options: MariadbSessionOptions = {}): Pool {
  inUtc();
  return createPool(mariadbConfig(url, options));
}

/** One session (the migration runner, tests): the caller ends it. */
export function connectMariadb(url: string, options: MariadbSessionOptions = {}): Promise<Connection> {
  inUtc();
  return createConnection(mariadbConfig(url, options));
}

/**
 * The store keeps UTC DATETIME(3) (every session's time_zone is +00:00), but the driver writes
 * a JS Date parameter and reads a DATETIME column in the process's own zone, whatever its
 * `timezone` option says (that option only sets the session's zone). So a process that talks to
 * MySQL/MariaDB runs in UTC: the service's own times are ISO-8601 UTC anyway, and a host in
 * another zone would otherwise shift every expiry by its offset.
 */
function inUtc(): void {
  if (process.env.TZ !== 'UTC') process.env.TZ = 'UTC';
}
