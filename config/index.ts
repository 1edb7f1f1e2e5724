/**
 * Configuration, read from the environment once at boot, validated, and passed down.
 * Nothing else in the code base reads `process.env`. The pieces: schema.ts (the types),
 * parse.ts (one variable each), secrets.ts, database.ts; this file assembles them.
 */
import { loadDatabaseConfig } from './database';
import {
  bool,
  certPair,
  ConfigError,
  duration,
  durationSeconds,
  int,
  isProduction,
  percent,
  readableFile,
  str,
  url,
  type Env,
} from './parse';
import type { CacheConfig, Config, EventWebhooksConfig, RedisTlsConfig, TemporalConfig } from './schema';
import { secrets } from './secrets';

export * from './schema';
export { ConfigError } from './parse';
export { MIN_SECRET_BYTES, placeholderReason } from './secrets';
export {
  DEFAULT_DATABASE_URL,
  DEFAULT_MIGRATION_DATABASE_URL,
  loadDatabaseConfig,
  pgSslFor,
  storeOf,
} from './database';

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

function eventWebhooksConfig(env: Env): EventWebhooksConfig {
  const schedule = str(env, 'WEBHOOK_RETRY_SCHEDULE', '5s,5m,30m,2h,5h,10h,10h');
  const steps = schedule.split(',').map((s) => s.trim());
  if (steps.length > 20 || steps.some((s) => !/^\d+(ms|s|m|h)$/.test(s))) {
    throw new ConfigError(
      'WEBHOOK_RETRY_SCHEDULE',
      `expected up to 20 comma-separated durations like 5s,5m,2h, got "${schedule}"`,
    );
  }
  const hosts = str(env, 'WEBHOOK_ALLOWED_HOSTS', '');
  return {
    timeoutMs: int(env, 'WEBHOOK_TIMEOUT_MS', 10_000, 100, 60_000),
    retryScheduleMs: steps.map((s) => (s.endsWith('ms') ? parseInt(s, 10) : durationSeconds(s) * 1000)),
    secretOverlapSeconds: durationSeconds(duration(env, 'WEBHOOK_SECRET_OVERLAP', '24h')),
    refusePrivate: isProduction(env),
    allowedHosts: hosts
      .split(',')
      .map((h) => h.trim().toLowerCase())
      .filter((h) => h !== ''),
    pollMs: int(env, 'WEBHOOK_POLL_INTERVAL_MS', 500, 10, 60_000),
  };
}

function redisTls(env: Env, redisUrl: string): RedisTlsConfig | undefined {
  const caFile = readableFile(env, 'REDIS_TLS_CA_FILE');
  const pair = certPair(env, 'REDIS_TLS_CERT_FILE', 'REDIS_TLS_KEY_FILE');
  if (!caFile && !pair.certFile) return undefined;
  if (!redisUrl.startsWith('rediss:'))
    throw new ConfigError('REDIS_URL', 'REDIS_TLS_* files are set: use a rediss:// URL');
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
  if (rawKey !== undefined && rawKey !== '' && rawKey.trim() === '')
    throw new ConfigError('TEMPORAL_API_KEY', 'is only whitespace');
  const apiKey = rawKey?.trim() || undefined;
  const wantsTls = !!(caFile || pair.certFile || serverName || apiKey);
  const tls = bool(env, 'TEMPORAL_TLS', wantsTls);
  if (!tls && (caFile || pair.certFile || serverName))
    throw new ConfigError('TEMPORAL_TLS', 'is false but TEMPORAL_TLS_* files or server name are set');
  if (!tls && apiKey)
    throw new ConfigError(
      'TEMPORAL_TLS',
      'is false but TEMPORAL_API_KEY is set: an API key is never sent in clear text',
    );
  return {
    address,
    namespace: str(env, 'TEMPORAL_NAMESPACE', 'default'),
    taskQueue: str(env, 'TEMPORAL_TASK_QUEUE', 'stockhold-orders'),
    tls: tls ? { caFile, ...pair, serverName } : undefined,
    apiKey,
  };
}

function logFormat(env: Env): Config['logFormat'] {
  const value = str(env, 'LOG_FORMAT', 'auto').toLowerCase();
  if (value !== 'pretty' && value !== 'json' && value !== 'auto')
    throw new ConfigError('LOG_FORMAT', `expected pretty, json or auto, got "${value}"`);
  return value;
}

/** EVENTS_NATS_*: undefined while EVENTS_NATS_URL is unset. */
function eventsNatsConfig(env: Env): Config['eventsNats'] {
  if (!env.EVENTS_NATS_URL?.trim()) return undefined;
  const urls = str(env, 'EVENTS_NATS_URL', '');
  for (const u of urls.split(',')) {
    let parsed: URL;
    try {
      parsed = new URL(u.trim());
    } catch {
      throw new ConfigError('EVENTS_NATS_URL', `not a URL: "${u.trim()}"`);
    }
    if (!['nats:', 'tls:'].includes(parsed.protocol))
      throw new ConfigError('EVENTS_NATS_URL', `expected nats:// or tls:// URLs, got "${u.trim()}"`);
  }
  const subjectPrefix = str(env, 'EVENTS_NATS_SUBJECT_PREFIX', 'stockhold.events');
  if (!/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(subjectPrefix)) {
    throw new ConfigError(
      'EVENTS_NATS_SUBJECT_PREFIX',
      `expected dot-separated tokens of letters, digits, - and _, got "${subjectPrefix}"`,
    );
  }
  const stream = str(env, 'EVENTS_NATS_STREAM', 'STOCKHOLD_EVENTS');
  if (!/^[A-Za-z0-9_-]+$/.test(stream))
    throw new ConfigError('EVENTS_NATS_STREAM', `expected letters, digits, - and _, got "${stream}"`);
  const publishTimeoutMs = int(env, 'EVENTS_NATS_PUBLISH_TIMEOUT_MS', 5_000, 100, 60_000);
  const maxBackoffMs = 5_000;
  const duplicateWindowSeconds = int(env, 'EVENTS_NATS_DUPLICATE_WINDOW_SECONDS', 600, 1, 7 * 24 * 3600);
  // A publish whose ack was lost may still land; its retry comes within a timeout and a backoff.
  // The window must see both copies, with room for a few failed attempts in between.
  const horizonSeconds = Math.ceil((10 * (publishTimeoutMs + maxBackoffMs)) / 1000);
  if (duplicateWindowSeconds < horizonSeconds) {
    throw new ConfigError(
      'EVENTS_NATS_DUPLICATE_WINDOW_SECONDS',
      `must be at least the publisher's retry horizon, 10 × (EVENTS_NATS_PUBLISH_TIMEOUT_MS + 5 s backoff) = ${horizonSeconds} s; got ${duplicateWindowSeconds}`,
    );
  }
  return { url: urls, stream, subjectPrefix, duplicateWindowSeconds, publishTimeoutMs, maxBackoffMs };
}

/** Reads and validates the configuration; throws ConfigError on the first bad setting (on every bad secret at once). */
export function loadConfig(env: Env = process.env): Config {
  const temporal = temporalConfig(env);
  const alertWebhookUrl = env.ALERT_WEBHOOK_URL?.trim()
    ? url(env, 'ALERT_WEBHOOK_URL', '', ['http:', 'https:'])
    : undefined;
  // Secrets, read together: in production every missing, blank, placeholder or short one is
  // named in the one refusal, not only the first.
  // Switched off (once real keys exist), the bootstrap key is neither needed nor accepted.
  const bootstrapEnabled = bool(env, 'ADMIN_TOKEN_ENABLED', true);
  const secretDefaults: Record<string, string> = { WEBHOOK_SECRET: 'dev-webhook-secret' };
  if (bootstrapEnabled) secretDefaults.ADMIN_TOKEN = 'dev-admin-token';
  if (alertWebhookUrl) secretDefaults.ALERT_WEBHOOK_SECRET = 'dev-alert-secret';
  // The console's sessions are signed with it: needed (and strong in production) while the console is served.
  const consoleEnabled = bool(env, 'CONSOLE_ENABLED', true);
  if (consoleEnabled) secretDefaults.CONSOLE_SESSION_SECRET = 'dev-console-session-secret';
  const {
    WEBHOOK_SECRET: webhookSecret,
    ADMIN_TOKEN: adminToken = '',
    ALERT_WEBHOOK_SECRET: alertWebhookSecret,
    CONSOLE_SESSION_SECRET: consoleSessionSecret = '',
  } = secrets(env, secretDefaults);
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
    orderQueryTimeoutMs: int(env, 'ORDER_QUERY_TIMEOUT_MS', 1_000, 50, 60_000),
    reservationTtlSeconds: int(env, 'RESERVATION_TTL_SECONDS', 1800, 1, 7 * 24 * 3600),
    sweeperGraceSeconds: int(env, 'SWEEPER_GRACE_SECONDS', 60, 0, 24 * 3600),
    holdSeconds: {
      min: int(env, 'HOLD_SECONDS_MIN', 60, 1, 7 * 24 * 3600),
      max: int(env, 'HOLD_SECONDS_MAX', 3600, 1, 7 * 24 * 3600),
    },
    holdExtension: {
      maxSeconds: int(env, 'HOLD_EXTENSION_MAX_SECONDS', 900, 1, 24 * 3600),
      maxTotalSeconds: int(env, 'HOLD_EXTENSION_MAX_TOTAL_SECONDS', 1800, 1, 7 * 24 * 3600),
      maxCount: int(env, 'HOLD_EXTENSION_MAX_COUNT', 3, 1, 100),
      paymentPendingSeconds: int(env, 'PAYMENT_PENDING_EXTENSION_SECONDS', 600, 1, 24 * 3600),
    },
    paymentSettleMinutes: int(env, 'PAYMENT_SETTLE_MINUTES', 5, 0, 24 * 60),
    paymentCheckInterval: duration(env, 'PAYMENT_CHECK_INTERVAL', '1m'),
    sagaStartConcurrency: int(env, 'SAGA_START_CONCURRENCY', 16, 1, 1000),
    holdBatchMax: int(env, 'HOLD_BATCH_MAX', 500, 1, 5000),
    holdBatchesInFlight: int(env, 'HOLD_BATCHES_IN_FLIGHT', 2, 1, 8),
    sagaStartDelayMs: int(env, 'SAGA_START_DELAY_MS', 0, 0, 24 * 3600_000),
    sagaStartTargetLatencyMs: int(env, 'SAGA_START_TARGET_LATENCY_MS', 500, 1, 600_000),
    sagaStartBusyRequests: int(env, 'SAGA_START_BUSY_REQUESTS', 64, 1, 1_000_000),
    sagaStartMaxDeferMs: int(env, 'SAGA_START_MAX_DEFER_MS', 2000, 0, 600_000),
    sagaRelayGraceMs: int(env, 'SAGA_RELAY_GRACE_MS', 3000, 0, 600_000),
    eventRelayIntervalMs: int(env, 'EVENT_RELAY_INTERVAL_MS', 200, 10, 60_000),
    eventRetention: {
      days: int(env, 'EVENT_RETENTION_DAYS', 7, 1, 3650),
      intervalMs: int(env, 'EVENT_RETENTION_INTERVAL_MS', 600_000, 1_000, 24 * 3600_000),
    },
    eventsNats: eventsNatsConfig(env),
    eventWebhooks: eventWebhooksConfig(env),
    paymentDelivery: {
      concurrency: int(env, 'PAYMENT_DELIVERY_CONCURRENCY', 16, 1, 1000),
      relayGraceMs: int(env, 'PAYMENT_RELAY_GRACE_MS', 3000, 0, 600_000),
      recheckMs: int(env, 'PAYMENT_RECHECK_MS', 5000, 100, 600_000),
      unknownOrderGraceSeconds: int(env, 'PAYMENT_UNKNOWN_ORDER_GRACE_SECONDS', 60, 0, 24 * 3600),
    },
    sweeperInterval: duration(env, 'SWEEPER_INTERVAL', '5m'),
    expiryCheckInterval: duration(env, 'EXPIRY_CHECK_INTERVAL', '1h'),
    reconcileInterval: duration(env, 'RECONCILE_INTERVAL', '1h'),
    alertWebhook:
      alertWebhookUrl && alertWebhookSecret ? { url: alertWebhookUrl, secret: alertWebhookSecret } : undefined,
    transferReceiveDeadlineSeconds: durationSeconds(duration(env, 'TRANSFER_RECEIVE_DEADLINE', '72h')),
    webhookSecret,
    webhookToleranceSeconds: int(env, 'WEBHOOK_TOLERANCE_SECONDS', 300, 1, 3600),
    adminToken,
    bootstrapKey: { enabled: bootstrapEnabled, adminOnly: isProduction(env) },
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
    console: consoleEnabled
      ? {
          sessionSecret: consoleSessionSecret,
          sessionHours: int(env, 'CONSOLE_SESSION_HOURS', 8, 1, 24 * 30),
          refreshSeconds: int(env, 'CONSOLE_REFRESH_SECONDS', 5, 1, 3600),
          temporalUiUrl: url(env, 'TEMPORAL_UI_URL', 'http://127.0.0.1:8233', ['http:', 'https:']).replace(/\/+$/, ''),
        }
      : undefined,
    logLevel: str(env, 'LOG_LEVEL', 'info'),
    logFormat: logFormat(env),
    campaigns: {
      gateCheckSeconds: int(env, 'CAMPAIGN_GATE_CHECK_SECONDS', 10, 1, 3600),
      dbPathDeadlineMs: int(env, 'FLASH_DB_PATH_DEADLINE_MS', 2_000, 10, 60_000),
      gateCommandTimeoutMs: int(env, 'GATE_COMMAND_TIMEOUT_MS', 2_000, 10, 60_000),
    },
    cache: cacheConfig(env),
    orderRateLimitPerMinute: int(env, 'ORDER_RATE_LIMIT_PER_MINUTE', 120, 1, 1_000_000),
    keyRateLimitPerMinute: int(env, 'KEY_RATE_LIMIT_PER_MINUTE', 300_000, 1, 100_000_000),
  };
}
