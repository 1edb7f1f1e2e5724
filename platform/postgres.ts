/**
 * How every PostgreSQL connection of the service is made (the Prisma pool, the hold pool, the
 * migration runner): TLS with libpq's `sslmode` meanings, session timeouts so a lost client
 * cannot keep a transaction (and the hottest row's lock) open, TCP keepalive on both ends.
 */
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import type { PoolConfig } from 'pg';
import { pgSslFor, type DatabaseConfig, type PgSslConfig } from '../config';

/** The TLS parameters a URL may carry (libpq's names); pg would read them with other meanings. */
const SSL_PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'ssl', 'uselibpqcompat'];

/** `url` without its TLS parameters: they are applied through `ssl` instead. */
export function withoutSslParams(url: string): string {
  const parsed = new URL(url);
  for (const key of SSL_PARAMS) parsed.searchParams.delete(key);
  return parsed.toString();
}

/**
 * node-postgres `ssl` for a mode, as libpq reads it: `require` encrypts without checking the
 * certificate (unless a CA is given: then as `verify-ca`), `verify-ca` checks the chain,
 * `verify-full` the chain and the host name.
 */
export function pgSslOptions(ssl: PgSslConfig): false | ConnectionOptions {
  if (ssl.mode === 'disable') return false;
  const files: ConnectionOptions = {
    ...(ssl.caFile ? { ca: readFileSync(ssl.caFile, 'utf8') } : {}),
    ...(ssl.certFile && ssl.keyFile
      ? { cert: readFileSync(ssl.certFile, 'utf8'), key: readFileSync(ssl.keyFile, 'utf8') }
      : {}),
  };
  const skipHostName = () => undefined;
  switch (ssl.mode) {
    case 'require':
      return ssl.caFile
        ? { ...files, rejectUnauthorized: true, checkServerIdentity: skipHostName }
        : { ...files, rejectUnauthorized: false };
    case 'verify-ca':
      return { ...files, rejectUnauthorized: true, checkServerIdentity: skipHostName };
    case 'verify-full':
      return { ...files, rejectUnauthorized: true };
  }
}

/** The session part of the settings: omitted fields keep PostgreSQL's own defaults. */
export type PgSessionSettings = Partial<
  Pick<
    DatabaseConfig,
    'connectTimeoutMs' | 'statementTimeoutMs' | 'idleInTransactionTimeoutMs' | 'keepAliveIdleSeconds'
  >
> & {
  readonly ssl?: PgSslConfig;
};

/**
 * A node-postgres pool/client config for `url`. Timeouts are startup parameters, so they hold
 * for every transaction on the connection, including a hold batch's function call; the
 * server-side keepalive (`tcp_keepalives_*`) lets PostgreSQL notice a vanished client even
 * when it sits idle in a transaction, and `idle_in_transaction_session_timeout` ends it.
 */
export function pgConfig(url: string, settings: PgSessionSettings = {}, max?: number): PoolConfig {
  const ssl = pgSslFor(url, settings.ssl ?? { mode: 'disable' });
  const keepAliveIdle = settings.keepAliveIdleSeconds;
  return {
    connectionString: withoutSslParams(url),
    ssl: pgSslOptions(ssl),
    connectionTimeoutMillis: settings.connectTimeoutMs ?? 5_000,
    ...(max !== undefined ? { max } : {}),
    ...(settings.statementTimeoutMs ? { statement_timeout: settings.statementTimeoutMs } : {}),
    ...(settings.idleInTransactionTimeoutMs
      ? { idle_in_transaction_session_timeout: settings.idleInTransactionTimeoutMs }
      : {}),
    ...(keepAliveIdle
      ? {
          keepAlive: true,
          keepAliveInitialDelayMillis: keepAliveIdle * 1000,
          options: `-c tcp_keepalives_idle=${keepAliveIdle} -c tcp_keepalives_interval=${Math.max(1, Math.ceil(keepAliveIdle / 3))} -c tcp_keepalives_count=3`,
        }
      : {}),
  };
}
