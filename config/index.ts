/**
 * Configuration, read from the environment once at boot, validated, and passed down.
 * Nothing else in the code base reads `process.env`.
 */

/** Every setting of the service; README.md documents each with its variable. */
export interface Config {
  readonly databaseUrl: string;
  readonly redisUrl: string;
  readonly temporal: {
    readonly address: string;
    readonly namespace: string;
    readonly taskQueue: string;
  };
  /** How long an unpaid hold lives before the saga releases it. */
  readonly reservationTtlSeconds: number;
  /** A payment still PENDING this long after it arrived is reported, alerted and driven to settlement. */
  readonly paymentSettleMinutes: number;
  /** Order sagas one API process starts at once after their holds commit (the rest queue). */
  readonly sagaStartConcurrency: number;
  /** Failure drills and tests: how long the API holds back each saga start (0: none). */
  readonly sagaStartDelayMs: number;
  /** Most holds one group-commit transaction takes from a hot row. */
  readonly holdBatchMax: number;
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

/** Reads and validates the configuration; throws ConfigError on the first bad setting. */
export function loadConfig(env: Env = process.env): Config {
  const address = str(env, 'TEMPORAL_ADDRESS', '127.0.0.1:7233');
  if (!/^[\w.-]+:\d+$/.test(address)) {
    throw new ConfigError('TEMPORAL_ADDRESS', `expected host:port, got "${address}"`);
  }
  const webhookSecret = str(env, 'WEBHOOK_SECRET', 'dev-webhook-secret');
  const adminToken = str(env, 'ADMIN_TOKEN', 'dev-admin-token');
  if (env.NODE_ENV === 'production') {
    if (!env.WEBHOOK_SECRET) throw new ConfigError('WEBHOOK_SECRET', 'required in production');
    if (!env.ADMIN_TOKEN) throw new ConfigError('ADMIN_TOKEN', 'required in production');
  }
  const alertWebhookUrl = env.ALERT_WEBHOOK_URL?.trim() ? url(env, 'ALERT_WEBHOOK_URL', '', ['http:', 'https:']) : undefined;
  if (alertWebhookUrl && env.NODE_ENV === 'production' && !env.ALERT_WEBHOOK_SECRET) {
    throw new ConfigError('ALERT_WEBHOOK_SECRET', 'required in production when ALERT_WEBHOOK_URL is set');
  }
  const host = str(env, 'HOST', '127.0.0.1');
  const opsPort = env.OPS_PORT?.trim() ? int(env, 'OPS_PORT', 0, 0, 65535) : undefined;
  return {
    databaseUrl: url(env, 'DATABASE_URL', 'postgresql://postgres@127.0.0.1:5432/stockhold', [
      'postgres:',
      'postgresql:',
    ]),
    redisUrl: url(env, 'REDIS_URL', 'redis://127.0.0.1:6379/0', ['redis:', 'rediss:']),
    temporal: {
      address,
      namespace: str(env, 'TEMPORAL_NAMESPACE', 'default'),
      taskQueue: str(env, 'TEMPORAL_TASK_QUEUE', 'stockhold-orders'),
    },
    reservationTtlSeconds: int(env, 'RESERVATION_TTL_SECONDS', 1800, 1, 7 * 24 * 3600),
    sweeperGraceSeconds: int(env, 'SWEEPER_GRACE_SECONDS', 60, 0, 24 * 3600),
    paymentSettleMinutes: int(env, 'PAYMENT_SETTLE_MINUTES', 5, 0, 24 * 60),
    paymentCheckInterval: duration(env, 'PAYMENT_CHECK_INTERVAL', '1m'),
    sagaStartConcurrency: int(env, 'SAGA_START_CONCURRENCY', 16, 1, 1000),
    holdBatchMax: int(env, 'HOLD_BATCH_MAX', 500, 1, 5000),
    sagaStartDelayMs: int(env, 'SAGA_START_DELAY_MS', 0, 0, 24 * 3600_000),
    sagaRelayGraceMs: int(env, 'SAGA_RELAY_GRACE_MS', 3000, 0, 600_000),
    sweeperInterval: duration(env, 'SWEEPER_INTERVAL', '5m'),
    expiryCheckInterval: duration(env, 'EXPIRY_CHECK_INTERVAL', '1h'),
    reconcileInterval: duration(env, 'RECONCILE_INTERVAL', '1h'),
    alertWebhook: alertWebhookUrl ? { url: alertWebhookUrl, secret: str(env, 'ALERT_WEBHOOK_SECRET', 'dev-alert-secret') } : undefined,
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
