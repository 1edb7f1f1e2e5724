/**
 * Configuration, read from the environment once at boot, validated, and passed down.
 * Nothing else in the code base reads `process.env`.
 */
import { accessSync, constants as fsConstants } from 'node:fs';

/** Every setting of the service; README.md documents each with its variable. */
export interface Config {
  /** The service's own connection: a role with DML only, never the owner (README "Security"). */
  readonly databaseUrl: string;
  /** The owner's connection: migrations and the service role's grants run as it. */
  readonly migrationDatabaseUrl: string;
  /** TLS, session timeouts, keepalive and pool sizes of every PostgreSQL connection. */
  readonly database: DatabaseConfig;
  readonly migration: MigrationConfig;
  readonly redisUrl: string;
  /** TLS files of a `rediss://` Redis (undefined: plain, or the system CAs for rediss://). */
  readonly redisTls?: RedisTlsConfig;
  readonly temporal: TemporalConfig;
  /** SIGTERM: how long the API stays up reporting not-ready, then how long in-flight requests get. */
  readonly shutdown: { readonly delayMs: number; readonly timeoutMs: number };
  /** Longest an API request waits on a workflow (transfer steps, campaign end, fulfilment, order status). */
  readonly workflowWaitTimeoutMs: number;
  /** How long an unpaid hold lives before the saga releases it. */
  readonly reservationTtlSeconds: number;
  /** A payment still PENDING this long after it arrived is reported, alerted and driven to settlement. */
  readonly paymentSettleMinutes: number;
  /** Order sagas one API process starts at once after their holds commit (the rest queue). */
  readonly sagaStartConcurrency: number;
  /** Failure drills and tests: how long the API holds back each saga start (0: none). */
  readonly sagaStartDelayMs: number;
  /** Saga starts wait while the API answers a burst (this many requests in flight, or a hold batch running)… */
  readonly sagaStartBusyRequests: number;
  /** …but never longer than this. */
  readonly sagaStartMaxDeferMs: number;
  /** Most holds one group-commit transaction takes from a hot row. */
  readonly holdBatchMax: number;
  /** Group-commit batches per hot row at once: the next one waits on the row's lock in PostgreSQL, not in this process. */
  readonly holdBatchesInFlight: number;
  /** The worker's saga relay: how old an unstarted saga's outbox row must be before it starts it. */
  readonly sagaRelayGraceMs: number;
  /** How often the unsettled-payment check runs. */
  readonly paymentCheckInterval: string;
  /** How long after expiry a hold whose workflow is gone waits for the sweeper. */
  readonly sweeperGraceSeconds: number;
  readonly sweeperInterval: string;
  /** How often the perishables check (alerts, write-off) runs. */
  readonly expiryCheckInterval: string;
  /** How often reconciliation runs. */
  readonly reconcileInterval: string;
  /** Outbound alert webhook; undefined: alerts are only listed by GET /alerts. */
  readonly alertWebhook?: { readonly url: string; readonly secret: string };
  /** How long a shipped transfer may take before it is overdue (default when not given). */
  readonly transferReceiveDeadlineSeconds: number;
  readonly webhookSecret: string;
  readonly webhookToleranceSeconds: number;
  /** The bootstrap key: a bearer token with every scope (README "Security"). */
  readonly adminToken: string;
  /** How long a process trusts a verified API key before reading it again (revocations also arrive over Redis at once). */
  readonly apiKeyCacheMs: number;
  /** `ops`: when set, /metrics and /docs are served there (without a key) and not on `port`. */
  readonly api: { readonly host: string; readonly port: number; readonly ops?: { readonly host: string; readonly port: number } };
  /** Where the worker serves /metrics and /healthz. */
  readonly workerHttp: { readonly host: string; readonly port: number };
  readonly logLevel: string;
  /** LOG_FORMAT: `pretty` (one coloured line per entry), `json` (pino's lines), `auto` (pretty when stdout is a terminal). */
  readonly logFormat: 'pretty' | 'json' | 'auto';
  readonly campaigns: {
    /** How often a running campaign's gate is compared with PostgreSQL. */
    readonly gateCheckSeconds: number;
    /** Flash orders per API process let through to PostgreSQL at once while the gate is down. */
    readonly dbPathConcurrency: number;
    /** Deadline of one gate command on its own Redis connection (past it: the gate cannot answer). */
    readonly gateCommandTimeoutMs: number;
  };
  readonly cache: CacheConfig;
  /** Orders (plain and flash-sale) one user may place per minute, across all replicas; beyond that 429 RATE_LIMITED. */
  readonly orderRateLimitPerMinute: number;
  /** Orders one API key may place per minute, across all replicas. */
  readonly keyRateLimitPerMinute: number;
}

/** PostgreSQL `sslmode` (libpq's meaning); `prefer`/`allow` are refused: pg cannot fall back. */
export type PgSslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';
export const PG_SSL_MODES: readonly PgSslMode[] = ['disable', 'require', 'verify-ca', 'verify-full'];

export interface PgSslConfig {
  readonly mode: PgSslMode;
  /** PEM bundle of the CA(s) to trust (else the system's). */
  readonly caFile?: string;
  /** Client certificate and key (certificate authentication), both or neither. */
  readonly certFile?: string;
  readonly keyFile?: string;
}

/** Every PostgreSQL connection of the service (README "Settings", "Running several replicas"). */
export interface DatabaseConfig {
  /** The default TLS of both URLs; an `sslmode`/`sslrootcert` in a URL wins for that URL. */
  readonly ssl: PgSslConfig;
  /** Connections of the Prisma pool per process. */
  readonly poolMax: number;
  /** Connections of the request path's hold batches per API process. */
  readonly holdPoolMax: number;
  readonly connectTimeoutMs: number;
  /** Server-side `statement_timeout` of every session (0: none). */
  readonly statementTimeoutMs: number;
  /** Server-side `idle_in_transaction_session_timeout`: a client lost mid-transaction frees its rows after this. */
  readonly idleInTransactionTimeoutMs: number;
  /** TCP keepalive: first probe after this idle time, both on the client and the server side. */
  readonly keepAliveIdleSeconds: number;
}

/** The migration runner (prisma/migrate.ts). */
export interface MigrationConfig {
  /** `lock_timeout` of each migration: a DDL queued behind a hot row fails instead of stalling traffic. */
  readonly lockTimeoutMs: number;
  readonly statementTimeoutMs: number;
}

export interface RedisTlsConfig {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
}

export interface TemporalConfig {
  readonly address: string;
  readonly namespace: string;
  readonly taskQueue: string;
  /** TLS to the frontend (Temporal Cloud: mTLS certificates, or an API key over TLS). */
  readonly tls?: TemporalTlsConfig;
  readonly apiKey?: string;
}

export interface TemporalTlsConfig {
  readonly caFile?: string;
  readonly certFile?: string;
  readonly keyFile?: string;
  readonly serverName?: string;
}

/** The stock cache, its Redis connection, relay and consistency checker (README "Settings"). */
export interface CacheConfig {
  readonly connectTimeoutMs: number;
  /** Per-command deadline: a slow Redis costs a read at most this long before PostgreSQL answers. */
  readonly commandTimeoutMs: number;
  /** Commands allowed in flight at once; beyond that reads bypass the cache (the bounded queue). */
  readonly maxInFlight: number;
  readonly ttlSeconds: number;
  /** Consecutive failures that open the circuit breaker, and how long it stays open. */
  readonly breakerFailures: number;
  readonly breakerCooldownMs: number;
  readonly relayIntervalMs: number;
  readonly relayBatch: number;
  readonly checkInterval: string;
  /** Drift above this share of compared SKUs triggers a full rebuild and an alert. */
  readonly checkDriftPercent: number;
  readonly checkHotPercent: number;
  readonly checkSample: number;
}

/** Thrown at boot when a setting is missing or malformed; the process must not start. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Readonly<Record<string, string | undefined>>;

function str(env: Env, name: string, fallback: string): string {
  const value = env[name]?.trim();
  if (value === undefined || value === '') return fallback;
  return value;
}

function int(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(name, `must be between ${min} and ${max}`);
  return value;
}

function url(env: Env, name: string, fallback: string, protocols: string[]): string {
  const value = str(env, name, fallback);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, `not a URL: "${value}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `expected ${protocols.join(' or ')}, got ${parsed.protocol}`);
  }
  return value;
}

function duration(env: Env, name: string, fallback: string): string {
  const value = str(env, name, fallback);
  if (!/^\d+(ms|s|m|h|d)$/.test(value)) {
    throw new ConfigError(name, `expected a duration like 30s, 5m or 1h, got "${value}"`);
  }
  return value;
}

/** Whole seconds in a validated duration (`72h`, `30m`, …), at least 1. */
function durationSeconds(value: string): number {
  const unit = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400 }[value.replace(/^\d+/, '') as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.max(1, Math.round(parseInt(value, 10) * unit));
}

function logFormat(env: Env): Config['logFormat'] {
  const value = str(env, 'LOG_FORMAT', 'auto').toLowerCase();
  if (value !== 'pretty' && value !== 'json' && value !== 'auto') throw new ConfigError('LOG_FORMAT', `expected pretty, json or auto, got "${value}"`);
  return value;
}

function percent(env: Env, name: string, fallback: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+(\.\d+)?$/.test(raw) || Number(raw) > 100) throw new ConfigError(name, `expected a percentage 0-100, got "${raw}"`);
  return Number(raw);
}

function cacheConfig(env: Env): CacheConfig {
  return {
    connectTimeoutMs: int(env, 'REDIS_CONNECT_TIMEOUT_MS', 2_000, 50, 60_000),
    commandTimeoutMs: int(env, 'REDIS_COMMAND_TIMEOUT_MS', 250, 10, 10_000),
    maxInFlight: int(env, 'REDIS_MAX_IN_FLIGHT', 200, 1, 100_000),
    ttlSeconds: int(env, 'CACHE_TTL_SECONDS', 3600, 1, 7 * 24 * 3600),
    breakerFailures: int(env, 'CACHE_BREAKER_FAILURES', 5, 1, 1000),
    breakerCooldownMs: int(env, 'CACHE_BREAKER_COOLDOWN_MS', 5_000, 10, 600_000),
    relayIntervalMs: int(env, 'CACHE_RELAY_INTERVAL_MS', 200, 10, 60_000),
    relayBatch: int(env, 'CACHE_RELAY_BATCH', 500, 1, 10_000),
    checkInterval: duration(env, 'CACHE_CHECK_INTERVAL', '10m'),
    checkDriftPercent: percent(env, 'CACHE_CHECK_DRIFT_PERCENT', 1),
    checkHotPercent: percent(env, 'CACHE_CHECK_HOT_PERCENT', 10),
    checkSample: int(env, 'CACHE_CHECK_SAMPLE', 100, 0, 100_000),
  };
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `expected true or false, got "${raw}"`);
}

/** A file the process must be able to read (certificates, keys); undefined when unset. */
function readableFile(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  if (!value) return undefined;
  try {
    accessSync(value, fsConstants.R_OK);
  } catch {
    throw new ConfigError(name, `cannot read the file "${value}"`);
  }
  return value;
}

/** A client certificate and its key: both or neither. */
function certPair(env: Env, certName: string, keyName: string): { certFile?: string; keyFile?: string } {
  const certFile = readableFile(env, certName);
  const keyFile = readableFile(env, keyName);
  if (certFile && !keyFile) throw new ConfigError(keyName, `required with ${certName} (a certificate needs its key)`);
  if (keyFile && !certFile) throw new ConfigError(certName, `required with ${keyName} (a key needs its certificate)`);
  return { certFile, keyFile };
}

const isProduction = (env: Env) => env.NODE_ENV?.trim().toLowerCase() === 'production';

/** Shortest secret accepted in production, in bytes (UTF-8). */
export const MIN_SECRET_BYTES = 32;

/**
 * Values known in public — this repository's development defaults, docker-compose's and the
 * tests' placeholders, the usual "change me" words — compared without case and punctuation.
 */
const PLACEHOLDER_SECRETS = new Set(
  ['dev-webhook-secret', 'dev-admin-token', 'dev-alert-secret', 'test-webhook-secret', 'test-admin-token', 'e2e-secret',
    'change-me-webhook-secret', 'change-me-admin-token', 'secret', 'password', 'token', 'admin', 'default', 'test', 'dev']
    .map((v) => v.replace(/[^a-z0-9]/gi, '').toLowerCase()),
);
const PLACEHOLDER_WORDS = /changeme|placeholder|replaceme|yoursecret|yourtoken|secrethere|tokenhere|example|notasecret|insecure/;

/** Why `value` is a placeholder rather than a secret, or undefined. */
export function placeholderReason(value: string): string | undefined {
  const squashed = value.replace(/[^a-z0-9]/gi, '').toLowerCase();
  if (PLACEHOLDER_SECRETS.has(squashed)) return 'is a development default or a well-known placeholder';
  const word = PLACEHOLDER_WORDS.exec(squashed);
  if (word) return `looks like a placeholder (contains "${word[0]}")`;
  if (new Set(value).size < 8) return 'repeats too few characters to be random';
  return undefined;
}

const SECRET_HINT = `generate one with: openssl rand -base64 ${MIN_SECRET_BYTES + 16}`;

/**
 * A secret setting. Outside production an unset (or blank) one takes the public development
 * default; in production a missing, blank, placeholder or short (< MIN_SECRET_BYTES) value
 * stops the boot, never falls back.
 */
function secret(env: Env, name: string, devDefault: string): string {
  const raw = env[name];
  const value = raw?.trim() ?? '';
  if (!isProduction(env)) return value === '' ? devDefault : value;
  if (raw === undefined || raw === '') throw new ConfigError(name, `required in production (${SECRET_HINT})`);
  if (value === '') throw new ConfigError(name, `is only whitespace; a real secret is required in production (${SECRET_HINT})`);
  const placeholder = placeholderReason(value);
  if (placeholder) throw new ConfigError(name, `${placeholder}; refused in production (${SECRET_HINT})`);
  const bytes = Buffer.byteLength(value, 'utf8');
  if (bytes < MIN_SECRET_BYTES) throw new ConfigError(name, `is ${bytes} bytes; production needs at least ${MIN_SECRET_BYTES} (${SECRET_HINT})`);
  return value;
}

/** The local defaults: the service as `stockhold_app`, migrations as the superuser `postgres`. */
export const DEFAULT_DATABASE_URL = 'postgresql://stockhold_app@127.0.0.1:5432/stockhold';
export const DEFAULT_MIGRATION_DATABASE_URL = 'postgresql://postgres@127.0.0.1:5432/stockhold';

/**
 * The TLS of one PostgreSQL URL: its own `sslmode`/`sslrootcert`/`sslcert`/`sslkey`
 * parameters (libpq's names and meanings) win over the DATABASE_SSL_* defaults.
 */
export function pgSslFor(connectionUrl: string, defaults: PgSslConfig, variable = 'DATABASE_URL'): PgSslConfig {
  const params = new URL(connectionUrl).searchParams;
  const mode = params.get('sslmode') ?? defaults.mode;
  if (!(PG_SSL_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(variable, `sslmode=${mode} is not supported; use one of ${PG_SSL_MODES.join(', ')} (prefer/allow cannot fall back here)`);
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
  if (!!ssl.certFile !== !!ssl.keyFile) throw new ConfigError(variable, 'a client certificate needs its key (sslcert and sslkey, or DATABASE_SSL_CERT_FILE and DATABASE_SSL_KEY_FILE)');
  if (ssl.mode === 'verify-ca' && !ssl.caFile) throw new ConfigError(variable, 'sslmode=verify-ca needs a CA file (sslrootcert or DATABASE_SSL_CA_FILE)');
  return ssl;
}

function databaseConfig(env: Env): DatabaseConfig {
  const mode = str(env, 'DATABASE_SSL_MODE', 'disable');
  if (!(PG_SSL_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError('DATABASE_SSL_MODE', `expected one of ${PG_SSL_MODES.join(', ')}, got "${mode}"`);
  }
  const ssl = { mode: mode as PgSslMode, caFile: readableFile(env, 'DATABASE_SSL_CA_FILE'), ...certPair(env, 'DATABASE_SSL_CERT_FILE', 'DATABASE_SSL_KEY_FILE') };
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
export function loadDatabaseConfig(env: Env = process.env): Pick<Config, 'databaseUrl' | 'migrationDatabaseUrl' | 'database' | 'migration'> {
  const protocols = ['postgres:', 'postgresql:'];
  const databaseUrl = url(env, 'DATABASE_URL', DEFAULT_DATABASE_URL, protocols);
  // Set DATABASE_URL alone and migrations run as that role too (one role, as before): the
  // local pair of defaults applies only when neither is set.
  const migrationDatabaseUrl = url(env, 'MIGRATION_DATABASE_URL', env.DATABASE_URL?.trim() ? databaseUrl : DEFAULT_MIGRATION_DATABASE_URL, protocols);
  const database = databaseConfig(env);
  pgSslFor(databaseUrl, database.ssl, 'DATABASE_URL');
  pgSslFor(migrationDatabaseUrl, database.ssl, 'MIGRATION_DATABASE_URL');
  return {
    databaseUrl,
    migrationDatabaseUrl,
    database,
    migration: {
      lockTimeoutMs: int(env, 'MIGRATION_LOCK_TIMEOUT_MS', 10_000, 0, 24 * 3600_000),
      statementTimeoutMs: int(env, 'MIGRATION_STATEMENT_TIMEOUT_MS', 600_000, 0, 24 * 3600_000),
    },
  };
}

function redisTls(env: Env, redisUrl: string): RedisTlsConfig | undefined {
  const caFile = readableFile(env, 'REDIS_TLS_CA_FILE');
  const pair = certPair(env, 'REDIS_TLS_CERT_FILE', 'REDIS_TLS_KEY_FILE');
  if (!caFile && !pair.certFile) return undefined;
  if (!redisUrl.startsWith('rediss:')) throw new ConfigError('REDIS_URL', 'REDIS_TLS_* files are set: use a rediss:// URL');
  return { caFile, ...pair };
}

function temporalConfig(env: Env): TemporalConfig {
  const address = str(env, 'TEMPORAL_ADDRESS', '127.0.0.1:7233');
  if (!/^[\w.-]+:\d+$/.test(address)) {
    throw new ConfigError('TEMPORAL_ADDRESS', `expected host:port, got "${address}"`);
  }
  const caFile = readableFile(env, 'TEMPORAL_TLS_CA_FILE');
  const pair = certPair(env, 'TEMPORAL_TLS_CERT_FILE', 'TEMPORAL_TLS_KEY_FILE');
  const serverName = env.TEMPORAL_TLS_SERVER_NAME?.trim() || undefined;
  const rawKey = env.TEMPORAL_API_KEY;
  if (rawKey !== undefined && rawKey !== '' && rawKey.trim() === '') throw new ConfigError('TEMPORAL_API_KEY', 'is only whitespace');
  const apiKey = rawKey?.trim() || undefined;
  const wantsTls = !!(caFile || pair.certFile || serverName || apiKey);
  const tls = bool(env, 'TEMPORAL_TLS', wantsTls);
  if (!tls && (caFile || pair.certFile || serverName)) throw new ConfigError('TEMPORAL_TLS', 'is false but TEMPORAL_TLS_* files or server name are set');
  if (!tls && apiKey) throw new ConfigError('TEMPORAL_TLS', 'is false but TEMPORAL_API_KEY is set: an API key is never sent in clear text');
  return {
    address,
    namespace: str(env, 'TEMPORAL_NAMESPACE', 'default'),
    taskQueue: str(env, 'TEMPORAL_TASK_QUEUE', 'stockhold-orders'),
    tls: tls ? { caFile, ...pair, serverName } : undefined,
    apiKey,
  };
}

/** Reads and validates the configuration; throws ConfigError on the first bad setting. */
export function loadConfig(env: Env = process.env): Config {
  const temporal = temporalConfig(env);
  // Secrets: in production a missing, blank, placeholder or short one stops the boot.
  const webhookSecret = secret(env, 'WEBHOOK_SECRET', 'dev-webhook-secret');
  const adminToken = secret(env, 'ADMIN_TOKEN', 'dev-admin-token');
  const alertWebhookUrl = env.ALERT_WEBHOOK_URL?.trim() ? url(env, 'ALERT_WEBHOOK_URL', '', ['http:', 'https:']) : undefined;
  const alertWebhookSecret = alertWebhookUrl ? secret(env, 'ALERT_WEBHOOK_SECRET', 'dev-alert-secret') : undefined;
  const redisUrl = url(env, 'REDIS_URL', 'redis://127.0.0.1:6379/0', ['redis:', 'rediss:']);
  const host = str(env, 'HOST', '127.0.0.1');
  const opsPort = env.OPS_PORT?.trim() ? int(env, 'OPS_PORT', 0, 0, 65535) : undefined;
  return {
    ...loadDatabaseConfig(env),
    redisUrl,
    redisTls: redisTls(env, redisUrl),
    temporal,
    shutdown: {
      delayMs: int(env, 'SHUTDOWN_DELAY_MS', 0, 0, 600_000),
      timeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 100, 600_000),
    },
    workflowWaitTimeoutMs: int(env, 'WORKFLOW_WAIT_TIMEOUT_MS', 15_000, 100, 600_000),
    reservationTtlSeconds: int(env, 'RESERVATION_TTL_SECONDS', 1800, 1, 7 * 24 * 3600),
    sweeperGraceSeconds: int(env, 'SWEEPER_GRACE_SECONDS', 60, 0, 24 * 3600),
    paymentSettleMinutes: int(env, 'PAYMENT_SETTLE_MINUTES', 5, 0, 24 * 60),
    paymentCheckInterval: duration(env, 'PAYMENT_CHECK_INTERVAL', '1m'),
    sagaStartConcurrency: int(env, 'SAGA_START_CONCURRENCY', 16, 1, 1000),
    holdBatchMax: int(env, 'HOLD_BATCH_MAX', 500, 1, 5000),
    holdBatchesInFlight: int(env, 'HOLD_BATCHES_IN_FLIGHT', 2, 1, 8),
    sagaStartDelayMs: int(env, 'SAGA_START_DELAY_MS', 0, 0, 24 * 3600_000),
    sagaStartBusyRequests: int(env, 'SAGA_START_BUSY_REQUESTS', 64, 1, 1_000_000),
    sagaStartMaxDeferMs: int(env, 'SAGA_START_MAX_DEFER_MS', 2000, 0, 600_000),
    sagaRelayGraceMs: int(env, 'SAGA_RELAY_GRACE_MS', 3000, 0, 600_000),
    sweeperInterval: duration(env, 'SWEEPER_INTERVAL', '5m'),
    expiryCheckInterval: duration(env, 'EXPIRY_CHECK_INTERVAL', '1h'),
    reconcileInterval: duration(env, 'RECONCILE_INTERVAL', '1h'),
    alertWebhook: alertWebhookUrl && alertWebhookSecret ? { url: alertWebhookUrl, secret: alertWebhookSecret } : undefined,
    transferReceiveDeadlineSeconds: durationSeconds(duration(env, 'TRANSFER_RECEIVE_DEADLINE', '72h')),
    webhookSecret,
    webhookToleranceSeconds: int(env, 'WEBHOOK_TOLERANCE_SECONDS', 300, 1, 3600),
    adminToken,
    apiKeyCacheMs: int(env, 'API_KEY_CACHE_SECONDS', 5, 0, 300) * 1000,
    api: {
      host,
      port: int(env, 'PORT', 3000, 0, 65535),
      ...(opsPort === undefined ? {} : { ops: { host: str(env, 'OPS_HOST', host), port: opsPort } }),
    },
    workerHttp: {
      host: str(env, 'WORKER_METRICS_HOST', '127.0.0.1'),
      port: int(env, 'WORKER_METRICS_PORT', 9464, 0, 65535),
    },
    logLevel: str(env, 'LOG_LEVEL', 'info'),
    logFormat: logFormat(env),
    campaigns: {
      gateCheckSeconds: int(env, 'CAMPAIGN_GATE_CHECK_SECONDS', 10, 1, 3600),
      dbPathConcurrency: int(env, 'FLASH_DB_PATH_CONCURRENCY', 32, 1, 10_000),
      gateCommandTimeoutMs: int(env, 'GATE_COMMAND_TIMEOUT_MS', 2_000, 10, 60_000),
    },
    cache: cacheConfig(env),
    orderRateLimitPerMinute: int(env, 'ORDER_RATE_LIMIT_PER_MINUTE', 120, 1, 1_000_000),
    keyRateLimitPerMinute: int(env, 'KEY_RATE_LIMIT_PER_MINUTE', 300_000, 1, 100_000_000),
  };
}
