/**
 * The errors our SQL functions (prisma/functions/*.sql) raise, decoded in this one place.
 *
 * Each is raised with a SQLSTATE of class SH (ours: no PostgreSQL class starts with S), its
 * subject as a JSON object in DETAIL, and a message for the logs:
 *
 *   RAISE EXCEPTION USING ERRCODE = 'SH002', MESSAGE = format('UNKNOWN_PRODUCT: %s', v_sku),
 *     DETAIL = jsonb_build_object('sku', v_sku)::text;
 *
 * The code says what it means and this table words the answer, like every other domain error
 * in TypeScript; no caller reads an error's text. A code is added here and in the function's
 * header together; test/db/sql-functions.test.ts fails when a file raises a code this table
 * does not know (or the table lists one no file raises), and runs each function into each of
 * its errors on the real PostgreSQL.
 *
 * | SQLSTATE | raised by            | means                     | decoded as               |
 * |----------|----------------------|---------------------------|--------------------------|
 * | SH001    | stockhold_hold_batch | no such campaign          | CAMPAIGN_NOT_FOUND (404) |
 * | SH002    | stockhold_hold_batch | no such product           | UNKNOWN_PRODUCT (404)    |
 * | SH003    | stockhold_hold_batch | no such warehouse         | UNKNOWN_WAREHOUSE (404)  |
 * | SH004    | stockhold_hold_batch | a serial twice in a batch | not decoded (a bug)      |
 * | SH005    | stockhold_hold_batch | a hold without its fence  | not decoded (a bug)      |
 *
 * "Not decoded": the caller's own bug or a broken invariant, never the client's doing; the
 * error stays as PostgreSQL raised it, and the caller treats it as any failed transaction (the
 * request path answers 503, nothing held). Both clients' errors are read (pgFaultOf:
 * node-postgres, or Prisma over the pg adapter).
 */
import { DomainError, ErrorCode } from '../domain/errors';
import { pgFaultOf } from './data-errors';

/** A decoded error: its code, and its message and details from the DETAIL the function gave. */
export interface SqlFunctionErrorDecoding {
  readonly code: ErrorCode;
  readonly answer: (subject: Readonly<Record<string, string | undefined>>) => {
    readonly message: string;
    readonly details?: Record<string, unknown>;
  };
}

/** Every SQLSTATE our functions raise, with the domain error it is (null: not decoded). */
export const SQL_FUNCTION_ERRORS: Readonly<Record<string, SqlFunctionErrorDecoding | null>> = {
  SH001: { code: ErrorCode.CAMPAIGN_NOT_FOUND, answer: (s) => ({ message: `no campaign ${s.campaignId}` }) },
  SH002: {
    code: ErrorCode.UNKNOWN_PRODUCT,
    answer: (s) => ({ message: `no product ${s.sku}`, details: { sku: s.sku } }),
  },
  SH003: {
    code: ErrorCode.UNKNOWN_WAREHOUSE,
    answer: (s) => ({ message: `no warehouse ${s.warehouseCode}`, details: { warehouseCode: s.warehouseCode } }),
  },
  SH004: null,
  SH005: null,
};

/** `err` as the domain error our SQL function meant by it; undefined for any other error. */
export function sqlFunctionError(err: unknown): DomainError | undefined {
  if (err instanceof DomainError) return undefined;
  const fault = pgFaultOf(err);
  const decoding = fault ? SQL_FUNCTION_ERRORS[fault.sqlState] : undefined;
  if (!fault || !decoding) return undefined;
  const { message, details } = decoding.answer(subjectOf(fault.detail));
  return new DomainError(decoding.code, message, details);
}

function subjectOf(detail: string | undefined): Record<string, string | undefined> {
  try {
    const parsed: unknown = JSON.parse(detail ?? '{}');
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, string>)
      : {};
  } catch {
    return {};
  }
}
