/**
 * The store's verdict on the data itself, as a domain error. SQLSTATE class 22 (data
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
 *
 * MySQL/MariaDB (the `mariadb` driver's SqlError) reports the same classes in its SQLSTATE, with
 * all of class 23 as `23000` and the errno telling them apart: a duplicate key (1062, 1586, 1022)
 * is the race and stays retryable; a CHECK (4025: also a JSON column's JSON_VALID, which refuses
 * what PostgreSQL's json input refuses as 22P02, e.g. a lone surrogate escape), a foreign key
 * (1451, 1452) or a NOT NULL (1048) is final. Found by chaos scenario 8 on MariaDB: an admin body
 * with "\ud800" in a free-text field failed the audit row's INSERT and answered 500.
 */
import { DomainError, ErrorCode } from '../domain/errors';

const RACE_CODES: ReadonlySet<string> = new Set(['23505', '23P01']);
/** MySQL/MariaDB's duplicate-key errnos (SQLSTATE 23000): the race, retryable. */
const MYSQL_RACE_ERRNOS: ReadonlySet<number> = new Set([1022, 1062, 1586]);
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

/** A MySQL/MariaDB error inside `err` (the `mariadb` driver's SqlError: `sqlState`, `errno`). */
export function mysqlFaultOf(
  err: unknown,
  depth = 0,
): { sqlState: string; errno: number; message: string; constraint?: string } | undefined {
  if (typeof err !== 'object' || err === null || depth > 4) return undefined;
  const e = err as { sqlState?: unknown; errno?: unknown; sqlMessage?: unknown; message?: unknown; cause?: unknown };
  if (typeof e.sqlState === 'string' && SQLSTATE.test(e.sqlState) && typeof e.errno === 'number') {
    // The server's own text (the driver's `message` adds the SQL and its parameters), without the table's schema.
    const message = String(e.sqlMessage ?? e.message ?? '').replace(/ for `[^`]*`\.`[^`]*`$/, '');
    const constraint = /CONSTRAINT `([^`]+)` failed/.exec(message)?.[1];
    return { sqlState: e.sqlState, errno: e.errno, message, ...(constraint ? { constraint } : {}) };
  }
  return mysqlFaultOf(e.cause, depth + 1);
}

/** The store's fault in `err` with what asDataError needs; undefined for no fault or a race. */
function finalFaultOf(
  err: unknown,
): { sqlState: string; message: string; details: Record<string, unknown> } | undefined {
  const pg = pgFaultOf(err);
  if (pg) {
    if (RACE_CODES.has(pg.sqlState)) return undefined;
    return {
      sqlState: pg.sqlState,
      message: pg.message,
      details: { sqlState: pg.sqlState, ...(pg.constraint ? { constraint: pg.constraint } : {}) },
    };
  }
  const my = mysqlFaultOf(err);
  if (!my || MYSQL_RACE_ERRNOS.has(my.errno)) return undefined;
  return {
    sqlState: my.sqlState,
    message: my.message,
    details: { sqlState: my.sqlState, errno: my.errno, ...(my.constraint ? { constraint: my.constraint } : {}) },
  };
}

/**
 * `err` as a final domain error when the store refused the data (class 22 → INVALID_INPUT,
 * class 23 → CONSTRAINT_VIOLATION); undefined for anything a retry may cure.
 */
export function asDataError(err: unknown): DomainError | undefined {
  if (err instanceof DomainError) return undefined;
  const fault = finalFaultOf(err);
  if (!fault) return undefined;
  const details = fault.details;
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
