/**
 * What the scheduled checks and stock steps report back to their workflows and the API:
 * plain data (no I/O), so workflow code may import it.
 */
import type { OrderLine, ReservationStatus } from './types';

// Reconciliation (data/stock/reconcile.ts): drift between a level and its evidence.
/** Which invariant a drift breaks. */
export const DriftCheck = {
  ON_HAND_VS_LEDGER: 'ON_HAND_VS_LEDGER',
  RESERVED_VS_LEDGER: 'RESERVED_VS_LEDGER',
  INCOMING_VS_LEDGER: 'INCOMING_VS_LEDGER',
  DAMAGED_VS_LEDGER: 'DAMAGED_VS_LEDGER',
  QUALITY_CONTROL_VS_LEDGER: 'QUALITY_CONTROL_VS_LEDGER',
  RESERVED_VS_HOLDS: 'RESERVED_VS_HOLDS',
  INCOMING_VS_TRANSFERS: 'INCOMING_VS_TRANSFERS',
  LOTS_VS_ON_HAND: 'LOTS_VS_ON_HAND',
  LOT_VS_LEDGER: 'LOT_VS_LEDGER',
  NEGATIVE: 'NEGATIVE',
  AVAILABLE_NEGATIVE: 'AVAILABLE_NEGATIVE',
  /** A level's stock.changed events do not chain up to its version (data/events/versions.ts). */
  EVENTS_VS_VERSIONS: 'EVENTS_VS_VERSIONS',
  /** MySQL/MariaDB: a flash sale's quota ≠ its pool + the units held or sold from it (`subject`: the campaign). */
  POOL_VS_HOLDS: 'POOL_VS_HOLDS',
  /** MySQL/MariaDB: a user's count of a flash sale ≠ their holds in it (`subject`: campaign/user). */
  USER_COUNT_VS_HOLDS: 'USER_COUNT_VS_HOLDS',
} as const;
export type DriftCheck = (typeof DriftCheck)[keyof typeof DriftCheck];

/** One broken invariant: what the row says (`recorded`) and what its evidence says. */
export interface LevelDrift {
  readonly check: DriftCheck;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly lotCode: string | null;
  readonly recorded: number;
  readonly expected: number;
  /** What a drift that is not a level's is about (a campaign, campaign/user); absent otherwise. */
  readonly subject?: string;
}

/** A payment found PENDING too long ("paid but unsettled"), and what was done about it. */
export interface UnsettledPaymentDrift {
  readonly orderId: string;
  readonly paymentId: string;
  readonly amountCents: number;
  readonly receivedAt: string;
  readonly action: string;
}

export interface ReconciliationReport {
  readonly runId: string;
  readonly startedAt: string;
  readonly levelsChecked: number;
  /** No drift and no unsettled payment. */
  readonly clean: boolean;
  readonly drifts: LevelDrift[];
  readonly unsettledPayments: UnsettledPaymentDrift[];
  /** Holds whose saga had not started a minute after the hold committed (the relay is failing). */
  readonly unstartedSagas: { readonly orderId: string; readonly createdAt: string }[];
  /** Running order sagas whose state disagrees with their payments (each raised as an alert, and the saga told). */
  readonly sagaMismatches: SagaMismatch[];
}

/**
 * An order saga waiting on something PostgreSQL says is over: BACKORDERED while the payment
 * it waits on is already settled CONFIRMED or REFUND_REQUIRED (the fulfilment's signal was lost).
 */
export interface SagaMismatch {
  readonly orderId: string;
  readonly sagaStatus: string;
  readonly paymentId: string;
  readonly paymentState: string;
}

/** A payment found PENDING too long, as the payment check (use-cases/settle-stale-payments.ts) drove it. */
export interface UnsettledPayment {
  readonly orderId: string;
  readonly paymentId: string;
  readonly eventId: string;
  readonly amountCents: number;
  readonly receivedAt: string;
  /** DELIVERED / LATE_SETTLEMENT: handed to a saga; REFUND_REQUIRED: no such order (UNKNOWN_ORDER); AWAITING_ORDER: within its grace; `FAILED: …`: this payment's delivery failed, the pass went on. */
  readonly action: string;
}

// The cache consistency check (data/cache/checker.ts): drift between Redis and PostgreSQL.
/** What a check looks at and when it rebuilds (docs/settings.md: CACHE_CHECK_*). */
export interface CacheCheckOptions {
  readonly hotPercent: number;
  readonly sample: number;
  readonly driftPercent: number;
}

/** One SKU whose cached view disagreed with PostgreSQL. */
export interface CacheDrift {
  readonly sku: string;
  readonly cachedVersion: string;
  readonly dbVersion: string;
}

/** A check's result, as stored and as the workflow returns it. */
export interface CacheCheckResult {
  readonly id: string;
  readonly checkedAt: string;
  readonly hot: number;
  readonly sampled: number;
  readonly compared: number;
  readonly drifted: number;
  readonly driftRatio: number;
  readonly rebuilt: boolean;
  readonly drifts: CacheDrift[];
}

/** A reservation as stored, with its lines. */
export interface ReservationView {
  readonly reservationId: string;
  readonly orderId: string;
  readonly userId: string;
  readonly status: ReservationStatus;
  readonly paymentId: string | null;
  readonly releaseReason: string | null;
  readonly expiresAt: string;
  readonly campaignId: string | null;
  readonly amountCents: number | null;
  readonly lines: OrderLine[];
}

/** What one write-off run took out of stock. */
export interface WriteOffResult {
  readonly lots: number;
  readonly units: number;
}

/** Result of allocating received goods to a pre-sale's backorders. */
export interface Fulfilment {
  readonly idempotencyKey: string;
  readonly received: number;
  readonly allocated: string[];
  readonly refundRequired: string[];
}

/** What one run of the backstop sweeper (activities/sweep.ts) found and did. */
export interface SweepResult {
  readonly examined: number;
  readonly released: number;
  /** Holds whose order saga is still running past expiry + grace: reported, not released. */
  readonly runningPastExpiry: number;
  /** Holds whose saga never started (its outbox row unmarked): started now; it releases them. */
  readonly sagasStarted?: number;
  /** Holds whose release PostgreSQL refused for good (a data error): alerted, skipped; present only when some were. */
  readonly releaseFailed?: number;
  /**
   * Holds this pass could not handle for another reason (Temporal unreachable, a release timing
   * out on a lock): logged as an ALERT and left for the next sweep; present only when some were.
   */
  readonly itemErrors?: number;
}
