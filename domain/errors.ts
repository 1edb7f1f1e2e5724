/**
 * The one table of error codes. Each code maps once to an HTTP status (api/) and once to a
 * retryability decision for Temporal (activities/). Add a code here, never inline.
 */
export const ErrorCode = {
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  INSUFFICIENT_STOCK: 'INSUFFICIENT_STOCK',
  ALREADY_RELEASED: 'ALREADY_RELEASED',
  ORDER_NOT_FOUND: 'ORDER_NOT_FOUND',
  ORDER_CONFLICT: 'ORDER_CONFLICT',
  NOT_EDITABLE: 'NOT_EDITABLE',
  STALE_VERSION: 'STALE_VERSION',
  NOT_CANCELLABLE: 'NOT_CANCELLABLE',
  /** The hold's expiry has passed in PostgreSQL: it cannot be extended (its saga releases it). */
  HOLD_EXPIRED: 'HOLD_EXPIRED',
  /** The order's hold may not be extended: paid or ended, a pre-order, a flash sale that does not allow it. */
  NOT_EXTENDABLE: 'NOT_EXTENDABLE',
  /** An extension past a cap: seconds per extension, in all, or the number of extensions. */
  EXTENSION_LIMIT_REACHED: 'EXTENSION_LIMIT_REACHED',
  INVALID_SIGNATURE: 'INVALID_SIGNATURE',
  UNAUTHORIZED: 'UNAUTHORIZED',
  FORBIDDEN: 'FORBIDDEN',
  UNKNOWN_PRODUCT: 'UNKNOWN_PRODUCT',
  UNKNOWN_WAREHOUSE: 'UNKNOWN_WAREHOUSE',
  SKU_NOT_FOUND: 'SKU_NOT_FOUND',
  IDEMPOTENCY_CONFLICT: 'IDEMPOTENCY_CONFLICT',
  CAMPAIGN_NOT_FOUND: 'CAMPAIGN_NOT_FOUND',
  CAMPAIGN_CONFLICT: 'CAMPAIGN_CONFLICT',
  SOLD_OUT: 'SOLD_OUT',
  LIMIT_REACHED: 'LIMIT_REACHED',
  NOT_STARTED: 'NOT_STARTED',
  ENDED: 'ENDED',
  LOT_TRACKING_LOCKED: 'LOT_TRACKING_LOCKED',
  STALE_QUANTITY: 'STALE_QUANTITY',
  ADJUSTMENT_REFUSED: 'ADJUSTMENT_REFUSED',
  /** A move or write-off that would take units the level does not have in that state (held units never move). */
  MOVE_REFUSED: 'MOVE_REFUSED',
  /** A return for an order that sold nothing (never confirmed, cancelled, expired). */
  ORDER_NOT_CONFIRMED: 'ORDER_NOT_CONFIRMED',
  /** A return of more than was sold minus what came back already. */
  RETURN_EXCEEDS_SALE: 'RETURN_EXCEEDS_SALE',
  /** Stock into a lot past its removal date: write it off instead. */
  LOT_PAST_REMOVAL: 'LOT_PAST_REMOVAL',
  LEVEL_NOT_FOUND: 'LEVEL_NOT_FOUND',
  LOT_NOT_FOUND: 'LOT_NOT_FOUND',
  TRANSFER_NOT_FOUND: 'TRANSFER_NOT_FOUND',
  TRANSFER_CONFLICT: 'TRANSFER_CONFLICT',
  NOT_FOUND: 'NOT_FOUND',
  RATE_LIMITED: 'RATE_LIMITED',
  RESERVE_FAILED: 'RESERVE_FAILED',
  INVALID_INPUT: 'INVALID_INPUT',
  INVALID_CURSOR: 'INVALID_CURSOR',
  CONSTRAINT_VIOLATION: 'CONSTRAINT_VIOLATION',
  METHOD_NOT_ALLOWED: 'METHOD_NOT_ALLOWED',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  /** What this store (MySQL/MariaDB, docs/mysql.md "Status") does not run yet: nothing was changed. */
  STORE_NOT_SUPPORTED: 'STORE_NOT_SUPPORTED',
  WORKFLOW_TIMEOUT: 'WORKFLOW_TIMEOUT',
  INTERNAL: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status for each code; the API's single error handler reads this. */
export const httpStatusOf: Readonly<Record<ErrorCode, number>> = {
  VALIDATION_FAILED: 400,
  INSUFFICIENT_STOCK: 409,
  ALREADY_RELEASED: 409,
  ORDER_NOT_FOUND: 404,
  ORDER_CONFLICT: 409,
  NOT_EDITABLE: 409,
  STALE_VERSION: 409,
  NOT_CANCELLABLE: 409,
  HOLD_EXPIRED: 409,
  NOT_EXTENDABLE: 409,
  EXTENSION_LIMIT_REACHED: 409,
  INVALID_SIGNATURE: 401,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  UNKNOWN_PRODUCT: 404,
  UNKNOWN_WAREHOUSE: 404,
  SKU_NOT_FOUND: 404,
  IDEMPOTENCY_CONFLICT: 409,
  CAMPAIGN_NOT_FOUND: 404,
  CAMPAIGN_CONFLICT: 409,
  SOLD_OUT: 409,
  LIMIT_REACHED: 409,
  NOT_STARTED: 409,
  ENDED: 409,
  LOT_TRACKING_LOCKED: 409,
  STALE_QUANTITY: 409,
  ADJUSTMENT_REFUSED: 409,
  MOVE_REFUSED: 409,
  ORDER_NOT_CONFIRMED: 409,
  RETURN_EXCEEDS_SALE: 409,
  LOT_PAST_REMOVAL: 409,
  LEVEL_NOT_FOUND: 404,
  LOT_NOT_FOUND: 404,
  TRANSFER_NOT_FOUND: 404,
  TRANSFER_CONFLICT: 409,
  NOT_FOUND: 404,
  RATE_LIMITED: 429,
  RESERVE_FAILED: 409,
  INVALID_INPUT: 400,
  INVALID_CURSOR: 400,
  CONSTRAINT_VIOLATION: 409,
  METHOD_NOT_ALLOWED: 405,
  SERVICE_UNAVAILABLE: 503,
  STORE_NOT_SUPPORTED: 501,
  WORKFLOW_TIMEOUT: 504,
  INTERNAL: 500,
};

/** Whether a string (a Temporal failure's type, say) is a code of this table. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(httpStatusOf, value);
}

/**
 * Codes that describe the business state rather than a passing fault: an activity that
 * fails with one of these must not be retried, since the answer would not change.
 */
export const nonRetryableCodes: readonly ErrorCode[] = [
  ErrorCode.VALIDATION_FAILED,
  ErrorCode.UNKNOWN_PRODUCT,
  ErrorCode.UNKNOWN_WAREHOUSE,
  ErrorCode.IDEMPOTENCY_CONFLICT,
  ErrorCode.CAMPAIGN_NOT_FOUND,
  ErrorCode.STALE_QUANTITY,
  ErrorCode.ADJUSTMENT_REFUSED,
  ErrorCode.MOVE_REFUSED,
  ErrorCode.ORDER_NOT_CONFIRMED,
  ErrorCode.RETURN_EXCEEDS_SALE,
  ErrorCode.LOT_PAST_REMOVAL,
  ErrorCode.LEVEL_NOT_FOUND,
  ErrorCode.LOT_NOT_FOUND,
  ErrorCode.TRANSFER_CONFLICT,
  ErrorCode.INVALID_INPUT,
  ErrorCode.CONSTRAINT_VIOLATION,
];

/** A failure with a code from the table, safe to show to a caller. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
