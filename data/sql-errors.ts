/**
 * The errors our SQL functions (prisma/functions/*.sql) raise, decoded in this one place.
 *
 * Each is raised with a SQLSTATE of class SH (ours: no PostgreSQL class starts with S), a
 * MESSAGE meant for the API's answer and, where the answer has details, a DETAIL holding them
 * as a JSON object:
 *
 *   RAISE EXCEPTION USING ERRCODE = 'SH002', MESSAGE = format('no product %s', v_sku),
 *     DETAIL = jsonb_build_object('sku', v_sku)::text;
 *
 * so no caller reads an error's text to know what it means. A code is added here and in the
 * function's header together; test/db/sql-functions.test.ts fails when a file raises a code
 * this table does not know (or the table lists one no file raises), and runs each function
 * into each of its errors on the real PostgreSQL.
 *
 * | SQLSTATE | raised by            | means                    | decoded as               |
 * |----------|----------------------|--------------------------|--------------------------|
 * | SH001    | stockhold_hold_batch | no such campaign         | CAMPAIGN_NOT_FOUND (404) |
 * | SH002    | stockhold_hold_batch | no such product          | UNKNOWN_PRODUCT (404)    |
 * | SH003    | stockhold_hold_batch | no such warehouse        | UNKNOWN_WAREHOUSE (404)  |
 * | SH004    | stockhold_hold_batch | a serial twice in a batch| not decoded (a bug)      |
 * | SH005    | stockhold_hold_batch | a hold without its fence | not decoded (a bug)      |
 *
 * "Not decoded": the caller's own bug or a broken invariant, never the client's doing; the
 * error stays as PostgreSQL raised it, and the caller treats it as any failed transaction (the
 * request path answers 503, nothing held). Both clients' errors are read (pgFaultOf:
 * node-postgres, or Prisma over the pg adapter).
 */
import { DomainError, ErrorCode } from '../domain/errors';
import { pgFaultOf } from './stock/data-errors';

/** Every SQLSTATE our functions raise, with the domain error it is (null: not decoded). */
export const SQL_FUNCTION_ERRORS: Readonly<Record<string, ErrorCode | null>> = {
  SH001: ErrorCode.CAMPAIGN_NOT_FOUND,
  SH002: ErrorCode.UNKNOWN_PRODUCT,
  SH003: ErrorCode.UNKNOWN_WAREHOUSE,
  SH004: null,
  SH005: null,
};

/** `err` as the domain error our SQL function meant by it; undefined for any other error. */
export function sqlFunctionError(err: unknown): DomainError | undefined {
  if (err instanceof DomainError) return undefined;
  const fault = pgFaultOf(err);
  const code = fault ? SQL_FUNCTION_ERRORS[fault.sqlState] : undefined;
  if (!fault || !code) return undefined;
  return new DomainError(code, fault.message, detailsOf(fault.detail));
}

function detailsOf(detail: string | undefined): Record<string, unknown> | undefined {
  if (!detail) return undefined;
  try {
    const parsed: unknown = JSON.parse(detail);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
