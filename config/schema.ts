/**
 * The shape of the configuration: every setting of the service, typed. docs/settings.md documents
 * each with its variable; config/index.ts reads and validates them (loadConfig).
 */
import type { HoldExtensionCaps } from '../domain/hold-extensions';

/** Where the service keeps its state: PostgreSQL, or MySQL/MariaDB (docs/mysql.md). */
export type Store = 'postgresql' | 'mariadb';

/** Every setting of the service; docs/settings.md documents each with its variable. */
export interface Config {
  /** The store DATABASE_URL names (its scheme): `postgresql`, or `mariadb` for mysql:// and mariadb://. */
  readonly store: Store;
  /** The service's own connection: a role with DML only, never the owner (docs/security.md). */
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
  /** Longest an API request waits on a workflow (transfer steps, campaign end, fulfilment). */
  readonly workflowWaitTimeoutMs: number;
  /** How long GET /orders/:id (and a cancel) waits for the saga's answer before PostgreSQL answers. */
  readonly orderQueryTimeoutMs: number;
  /** How long an unpaid hold lives before the saga releases it. */
  readonly reservationTtlSeconds: number;
  /** The bounds of an order's own hold time (`holdSeconds` of POST /orders; HOLD_SECONDS_MIN, HOLD_SECONDS_MAX). */
  readonly holdSeconds: { readonly min: number; readonly max: number };
  /** The caps on extending a hold still waiting for its payment (POST /orders/:id/extend, payment.pending). */
  readonly holdExtension: HoldExtensionCaps & {
    /** What a `payment.pending` webhook adds (PAYMENT_PENDING_EXTENSION_SECONDS; within the same caps). */
    readonly paymentPendingSeconds: number;
  };
  /** A payment still PENDING this long after it arrived is reported, alerted and driven to settlement. */
  readonly paymentSettleMinutes: number;
  /** Order sagas one API process starts at once after their holds commit (the rest queue). */
  readonly sagaStartConcurrency: number;
  /** Failure drills and tests: how long the API holds back each saga start (0: none). */
  /** A saga start slower than this narrows the starts' window (SAGA_START_TARGET_LATENCY_MS). */
  readonly sagaStartTargetLatencyMs: number;
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
  /** How often the worker's event relay positions committed events (docs/events.md). */
  readonly eventRelayIntervalMs: number;
  /** Event retention: positioned events older than this that every channel has passed are deleted. */
  readonly eventRetention: EventRetentionConfig;
  /** The NATS JetStream channel; undefined (EVENTS_NATS_URL unset): no NATS. */
  readonly eventsNats?: EventsNatsConfig;
  /** Outbound event webhooks (docs/events.md "Webhooks"). */
  readonly eventWebhooks: EventWebhooksConfig;
  /** Payment deliveries after the webhook answered (use-cases/payment-relay.ts). */
  readonly paymentDelivery: PaymentDeliveryConfig;
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
  /** The bootstrap key: a bearer token with every scope, or only `admin` in production (docs/security.md); '' when switched off. */
  readonly adminToken: string;
  /**
   * The bootstrap key's use: `enabled` false (ADMIN_TOKEN_ENABLED=false, once real keys exist)
   * refuses it; `adminOnly` (production) limits it to scope `admin`.
   */
  readonly bootstrapKey: { readonly enabled: boolean; readonly adminOnly: boolean };
  /** How long a process trusts a verified API key before reading it again (revocations also arrive over Redis at once). */
  readonly apiKeyCacheMs: number;
  /** `ops`: when set, /metrics and /docs are served there (without a key) and not on `port`. */
  readonly api: {
    readonly host: string;
    readonly port: number;
    readonly ops?: { readonly host: string; readonly port: number };
  };
  /** The operator console (/console on the API's port, never the ops port); undefined: CONSOLE_ENABLED=false. */
  readonly console?: ConsoleConfig;
  /** Where the worker serves /metrics and /healthz. */
  readonly workerHttp: { readonly host: string; readonly port: number };
  readonly logLevel: string;
  /** LOG_FORMAT: `pretty` (one coloured line per entry), `json` (pino's lines), `auto` (pretty when stdout is a terminal). */
  readonly logFormat: 'pretty' | 'json' | 'auto';
  readonly campaigns: {
    /** How often a running campaign's gate is compared with PostgreSQL. */
    readonly gateCheckSeconds: number;
    /** How long a flash order the gate cannot answer may wait for its hold batch before a 503 (nothing held). */
    readonly dbPathDeadlineMs: number;
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

/** Every PostgreSQL connection of the service (docs/settings.md, docs/replicas.md). */
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

/** The stock cache, its Redis connection, relay and consistency checker (docs/settings.md). */
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

/** How a stored payment reaches its saga after the webhook answered. */
export interface EventRetentionConfig {
  readonly days: number;
  /** How often the worker's retention job runs. */
  readonly intervalMs: number;
}

/** docs/events.md "NATS JetStream". */
export interface EventsNatsConfig {
  readonly url: string;
  readonly stream: string;
  readonly subjectPrefix: string;
  /** The stream's Nats-Msg-Id dedupe window: at least the publisher's retry horizon (config/index.ts checks). */
  readonly duplicateWindowSeconds: number;
  readonly publishTimeoutMs: number;
  /** The longest pause between publish attempts while NATS is unreachable. */
  readonly maxBackoffMs: number;
}

export interface PaymentDeliveryConfig {
  /** Deliveries one API process attempts at once after their webhooks committed (the rest queue). */
  readonly concurrency: number;
  /** The worker's relay takes a delivery row this long after the webhook committed it (the API's own attempt first). */
  readonly relayGraceMs: number;
  /** A delivered payment still PENDING this long after its delivery is re-checked: delivered again once its saga has ended (a signal is not a settlement). */
  readonly recheckMs: number;
  /** A payment for an order PostgreSQL does not know waits this long for its hold before it is settled REFUND_REQUIRED (UNKNOWN_ORDER). */
  readonly unknownOrderGraceSeconds: number;
}

/** Signed event webhooks: how each attempt is sent and retried, and where it may go. */
export interface EventWebhooksConfig {
  /** One attempt's deadline (connect, send, answer). */
  readonly timeoutMs: number;
  /** The waits after each failed attempt; past the last one the event is DEAD and the subscription disabled. */
  readonly retryScheduleMs: readonly number[];
  /** How long the old secret still signs after a rotation (unless the rotation names another overlap). */
  readonly secretOverlapSeconds: number;
  /** Refuse URLs that resolve to private, loopback or link-local addresses (production). */
  readonly refusePrivate: boolean;
  /** Hosts let through anyway (lower case). */
  readonly allowedHosts: readonly string[];
  /** How often an idle subscription's loop looks for new events. */
  readonly pollMs: number;
}

/** The operator console's settings (docs/console.md). */
export interface ConsoleConfig {
  /** Signs the session cookie (CONSOLE_SESSION_SECRET): a new secret signs everyone out. */
  readonly sessionSecret: string;
  /** How long a sign-in lasts. */
  readonly sessionHours: number;
  /** How often the overview and the sales page refresh themselves. */
  readonly refreshSeconds: number;
  /** The Temporal UI each hold's saga links to (no trailing slash). */
  readonly temporalUiUrl: string;
}
