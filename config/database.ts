/** PostgreSQL settings: the service's and the migration runner's connections, TLS, timeouts. */
import { accessSync, constants as fsConstants } from 'node:fs';
import { certPair, ConfigError, int, readableFile, str, url, type Env } from './parse';
import { PG_SSL_MODES, type Config, type Store, type DatabaseConfig, type PgSslConfig, type PgSslMode } from './schema';

/** The local defaults: the service as `stockhold_app`, migrations as the superuser `postgres`. */
export const DEFAULT_DATABASE_URL = 'postgresql://stockhold_app@127.0.0.1:5432/stockhold';
export const DEFAULT_MIGRATION_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/stockhold';

/**
 * Which store a database URL names: PostgreSQL (`postgres://`, `postgresql://`), or MySQL /
 * MariaDB (`mysql://`, `mariadb://`; docs/mysql.md says what runs there today).
 */
export function storeOf(databaseUrl: string): Store {
  return /^(mysql|mariadb):/i.test(databaseUrl) ? 'mariadb' : 'postgresql';
}

/**
 * The TLS of one PostgreSQL URL: its own `sslmode`/`sslrootcert`/`sslcert`/`sslkey`
 * parameters (libpq's names and meanings) win over the DATABASE_SSL_* defaults.
 */
export function pgSslFor(connectionUrl: string, defaults: PgSslConfig, variable = 'DATABASE_URL'): PgSslConfig {
  const params = new URL(connectionUrl).searchParams;
  const mode = params.get('sslmode') ?? defaults.mode;
  if (!(PG_SSL_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(
      variable,
      `sslmode=${mode} is not supported; use one of ${PG_SSL_MODES.join(', ')} (prefer/allow cannot fall back here)`,
    );
  }
  const fileParam = (key: string) => {
    const value = params.get(key) ?? undefined;
    if (value === undefined) return undefined;
    try {
      accessSync(value, fsConstants.R_OK);
    } catch {
      throw new ConfigError(variable, `${key}: cannot read the file "${value}"`);
    }
    return value;
  };
  const ssl: PgSslConfig = {
    mode: mode as PgSslMode,
    caFile: fileParam('sslrootcert') ?? defaults.caFile,
    certFile: fileParam('sslcert') ?? defaults.certFile,
    keyFile: fileParam('sslkey') ?? defaults.keyFile,
  };
  if (!!ssl.certFile !== !!ssl.keyFile)
    throw new ConfigError(
      variable,
      'a client certificate needs its key (sslcert and sslkey, or DATABASE_SSL_CERT_FILE and DATABASE_SSL_KEY_FILE)',
    );
  if (ssl.mode === 'verify-ca' && !ssl.caFile)
    throw new ConfigError(variable, 'sslmode=verify-ca needs a CA file (sslrootcert or DATABASE_SSL_CA_FILE)');
  return ssl;
}

function databaseConfig(env: Env): DatabaseConfig {
  const mode = str(env, 'DATABASE_SSL_MODE', 'disable');
  if (!(PG_SSL_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError('DATABASE_SSL_MODE', `expected one of ${PG_SSL_MODES.join(', ')}, got "${mode}"`);
  }
  const ssl = {
    mode: mode as PgSslMode,
    caFile: readableFile(env, 'DATABASE_SSL_CA_FILE'),
    ...certPair(env, 'DATABASE_SSL_CERT_FILE', 'DATABASE_SSL_KEY_FILE'),
  };
  return {
    ssl,
    poolMax: int(env, 'DB_POOL_MAX', 10, 1, 1000),
    holdPoolMax: int(env, 'HOLD_POOL_MAX', 4, 1, 200),
    connectTimeoutMs: int(env, 'DB_CONNECT_TIMEOUT_MS', 5_000, 100, 120_000),
    statementTimeoutMs: int(env, 'DB_STATEMENT_TIMEOUT_MS', 30_000, 0, 24 * 3600_000),
    idleInTransactionTimeoutMs: int(env, 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 60_000, 0, 24 * 3600_000),
    keepAliveIdleSeconds: int(env, 'DB_TCP_KEEPALIVE_IDLE_SECONDS', 30, 1, 7200),
  };
}

/**
 * The database settings alone, without the service's secrets: what the migration runner, the
 * seed and the role script need (`NODE_ENV=production` with no WEBHOOK_SECRET is fine there).
 */
export function loadDatabaseConfig(
  env: Env = process.env,
): Pick<Config, 'store' | 'databaseUrl' | 'migrationDatabaseUrl' | 'database' | 'migration'> {
  const protocols = ['postgres:', 'postgresql:', 'mysql:', 'mariadb:'];
  const databaseUrl = url(env, 'DATABASE_URL', DEFAULT_DATABASE_URL, protocols);
  // Set DATABASE_URL alone and migrations run as that role too (one role, as before): the
  // local pair of defaults applies only when neither is set.
  const migrationDatabaseUrl = url(
    env,
    'MIGRATION_DATABASE_URL',
    env.DATABASE_URL?.trim() ? databaseUrl : DEFAULT_MIGRATION_DATABASE_URL,
    protocols,
  );
  const database = databaseConfig(env);
  const store = storeOf(databaseUrl);
  // One store: the migrations must run where the service reads (docs/mysql.md).
  if (storeOf(migrationDatabaseUrl) !== store)
    throw new ConfigError(
      'MIGRATION_DATABASE_URL',
      `names a ${storeOf(migrationDatabaseUrl)} server but DATABASE_URL a ${store} one: both must name the same store`,
    );
  if (store === 'postgresql') {
    pgSslFor(databaseUrl, database.ssl, 'DATABASE_URL');
    pgSslFor(migrationDatabaseUrl, database.ssl, 'MIGRATION_DATABASE_URL');
  }
  return {
    store,
    databaseUrl,
    migrationDatabaseUrl,
    database,
    migration: {
      lockTimeoutMs: int(env, 'MIGRATION_LOCK_TIMEOUT_MS', 10_000, 0, 24 * 3600_000),
      statementTimeoutMs: int(env, 'MIGRATION_STATEMENT_TIMEOUT_MS', 600_000, 0, 24 * 3600_000),
    },
  };
}
