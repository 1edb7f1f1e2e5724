/**
 * PostgreSQL's verdict on the data itself, as a domain error. SQLSTATE class 22 (data
 * exception: a NUL byte, a number out of range, an impossible date) and class 23 (integrity
 * violation: a CHECK, a foreign key, a NOT NULL) say that *this* statement can never succeed,
 * however often it is retried. Every caller that reaches the database — the activity wrapper
 * (activities/index.ts) and the API's error handler — asks this one function, so such a
 * failure is final everywhere: never retried by Temporal, a 4xx from the API, and its
 * transaction rolled back (nothing changed).
 *
 * Two class-23 codes stay retryable: a unique or exclusion violation is how a lost race with a
 * concurrent writer shows (two first attempts of one serial), and the retry reads the winner's
 * row instead.
 */
import { DomainError, ErrorCode } from '../domain/errors';

const RACE_CODES: ReadonlySet<string> = new Set(['23505', '23P01']);
const SQLSTATE = /^[0-9A-Z]{5}$/;

interface PgFault {
  readonly sqlState: string;
  readonly message: string;
  readonly constraint?: string;
  /** The error's DETAIL (our SQL functions put a JSON object there: data/sql-errors.ts). */
  readonly detail?: string;
}

/**
 * The PostgreSQL error inside `err`, whichever client raised it: node-postgres (`code` is the
 * SQLSTATE), or Prisma over the pg driver adapter (`meta.driverAdapterError.cause.originalCode`).
 */
export function pgFaultOf(err: unknown, depth = 0): PgFault | undefined {
  if (typeof err !== 'object' || err === null || depth > 4) return undefined;
  const e = err as {
    code?: unknown;
    message?: unknown;
    severity?: unknown;
    constraint?: unknown;
    detail?: unknown;
    meta?: { driverAdapterError?: unknown };
    cause?: unknown;
  };
  // node-postgres' DatabaseError (and Prisma's adapter cause, which copies its fields).
  if (typeof e.code === 'string' && SQLSTATE.test(e.code) && typeof e.severity === 'string') {
    return {
      sqlState: e.code,
      message: String(e.message ?? ''),
      constraint: typeof e.constraint === 'string' ? e.constraint : undefined,
      detail: typeof e.detail === 'string' ? e.detail : undefined,
    };
  }
  const adapter = e.meta?.driverAdapterError as
    | { cause?: { originalCode?: unknown; originalMessage?: unknown; constraint?: unknown; detail?: unknown } }
    | undefined;
  const code = adapter?.cause?.originalCode;
  if (typeof code === 'string' && SQLSTATE.test(code)) {
    const constraint = adapter?.cause?.constraint;
    const detail = adapter?.cause?.detail;
    return {
      sqlState: code,
      message: String(adapter?.cause?.originalMessage ?? ''),
      constraint: typeof constraint === 'string' ? constraint : undefined,
      detail: typeof detail === 'string' ? detail : undefined,
    };
  }
  return pgFaultOf(e.cause, depth + 1);
}

/**
 * `err` as a final domain error when PostgreSQL refused the data (class 22 → INVALID_INPUT,
 * class 23 → CONSTRAINT_VIOLATION); undefined for anything a retry may cure.
 */
export function asDataError(err: unknown): DomainError | undefined {
  if (err instanceof DomainError) return undefined;
  const fault = pgFaultOf(err);
  if (!fault || RACE_CODES.has(fault.sqlState)) return undefined;
  const details = { sqlState: fault.sqlState, ...(fault.constraint ? { constraint: fault.constraint } : {}) };
  if (fault.sqlState.startsWith('22'))
    return new DomainError(ErrorCode.INVALID_INPUT, `the database cannot store a value: ${fault.message}`, details);
  if (fault.sqlState.startsWith('23'))
    return new DomainError(
      ErrorCode.CONSTRAINT_VIOLATION,
      `the change breaks a rule of the stored data: ${fault.message}`,
      details,
    );
  return undefined;
}
