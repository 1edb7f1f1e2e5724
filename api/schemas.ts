/** TypeBox schemas shared by several routes. */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { decodeCursor, PAGE_LIMIT, type KeyPart, type KeyValue } from '../domain/cursor';

/** Business ids: letters, digits, `_`, `-`, `.` (":" is reserved for derived serials). */
export const Id = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'letters, digits, _ - . (1-64)' });

/**
 * Free text (names, reasons, notes, regions): any printable character, no control characters
 * (C0, DEL, C1: a NUL byte is one PostgreSQL cannot even store). Refused at the schema, so bad
 * text is a 400 before anything starts.
 */
export const NO_CONTROL_CHARACTERS = '^[^\\u0000-\\u001F\\u007F-\\u009F]*$';
export function Text(options: { minLength?: number; maxLength: number; description?: string }) {
  const description = [options.description, 'no control characters'].filter(Boolean).join('; ');
  return Type.String({ minLength: options.minLength ?? 1, ...options, pattern: NO_CONTROL_CHARACTERS, description });
}

/** A count or quantity a caller may state (PostgreSQL stores them as 32-bit integers). */
export const MAX_QUANTITY = 10_000_000;

/** An amount in the currency's smallest unit (cents). */
export const AmountCents = Type.Integer({ minimum: 0, maximum: 2_000_000_000, description: 'amount in cents' });

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'one of the codes in docs/api.md "Error codes"' }),
    message: Type.String(),
    details: Type.Optional(Type.Unknown()),
  },
  { description: 'Every 4xx/5xx answer' },
);
export type ErrorBody = Static<typeof ErrorBody>;

export const OrderLineSchema = Type.Object(
  { sku: Id, warehouseCode: Id, quantity: Type.Integer({ minimum: 1, maximum: 100_000 }) },
  { additionalProperties: false },
);

/** A line as ordered: without warehouseCode, allocation places it. */
export const RequestedLineSchema = Type.Object(
  { sku: Id, warehouseCode: Type.Optional(Id), quantity: Type.Integer({ minimum: 1, maximum: 100_000 }) },
  { additionalProperties: false },
);

export const AllocationPreferencesSchema = Type.Object(
  {
    preferredWarehouse: Type.Optional(Id),
    deliveryRegion: Type.Optional(Text({ maxLength: 64 })),
    deliveryLocation: Type.Optional(
      Type.Object(
        {
          latitude: Type.Number({ minimum: -90, maximum: 90 }),
          longitude: Type.Number({ minimum: -180, maximum: 180 }),
        },
        { additionalProperties: false },
      ),
    ),
    allowSplit: Type.Optional(Type.Boolean({ description: 'may a line be split across warehouses (default false)' })),
  },
  { additionalProperties: false, description: 'how lines without a warehouseCode are placed' },
);

export const AllocationNoteSchema = Type.Object({
  sku: Type.String(),
  warehouseCode: Type.String(),
  quantity: Type.Integer(),
  reason: Type.String({ description: 'REQUESTED, PREFERRED, CONSOLIDATED, REGION, NEAREST, PRIORITY' }),
  split: Type.Boolean(),
  detail: Type.String(),
});

export const ShortageSchema = Type.Object({
  sku: Type.String(),
  warehouseCode: Type.Optional(Type.String({ description: 'absent for a line allocation could not place' })),
  requested: Type.Integer(),
  available: Type.Integer(),
});

/** What each error status means on every route that gives it (docs/api.md "Error codes"). */
const errorMeaning: Record<number, string> = {
  400: 'invalid input: VALIDATION_FAILED (the schema, or a rule it cannot express), INVALID_INPUT (a value the database cannot store)',
  401: 'UNAUTHORIZED or INVALID_SIGNATURE',
  404: 'the id names nothing (the code says what)',
  409: 'refused by the current state (the code says why), or CONSTRAINT_VIOLATION',
  429: 'RATE_LIMITED',
  503: 'SERVICE_UNAVAILABLE: retry later',
};

/** An error response that says what it means on this route. */
const errorResponse = (status: number, rule?: string) =>
  Type.Object(ErrorBody.properties, { description: [rule, errorMeaning[status]].filter(Boolean).join('; ') });

/** Error responses a route may give, for its `response` schema, each with what it means. */
export function errors<const S extends readonly number[]>(...statuses: S) {
  return Object.fromEntries(statuses.map((s) => [s, errorResponse(s)])) as { [K in S[number]]: typeof ErrorBody };
}

/**
 * Error responses with the route's own reasons (rules its schema cannot express, such as one
 * field compared with another); spread after `errors(...)`.
 */
export function refusals<const R extends Record<number, string>>(rules: R) {
  return Object.fromEntries(Object.entries(rules).map(([s, rule]) => [s, errorResponse(Number(s), rule)])) as {
    [K in keyof R]: typeof ErrorBody;
  };
}

/** The query every list takes (domain/cursor.ts): the page size and where the previous page ended. */
export const PageQuery = {
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: PAGE_LIMIT.max,
      default: PAGE_LIMIT.default,
      description: `rows per page (default ${PAGE_LIMIT.default})`,
    }),
  ),
  cursor: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 1000,
      description: "the previous page's nextCursor, as given (opaque; an edited one is 400 INVALID_CURSOR)",
    }),
  ),
};

/** A page of a list: `{ data, hasMore, nextCursor }`. */
export function PageOf<T extends TSchema>(item: T, description: string) {
  return Type.Object(
    {
      data: Type.Array(item),
      hasMore: Type.Boolean({ description: 'more rows after this page' }),
      nextCursor: Type.Union([Type.String(), Type.Null()], {
        description: 'pass as cursor for the next page; null on the last',
      }),
    },
    { description },
  );
}

/** An instant in a query (a time range bound). */
export const Instant = Type.String({ format: 'date-time', description: 'ISO 8601 instant' });

/**
 * The page a list route reads: its `limit` (default PAGE_LIMIT.default) and the sort key its
 * `cursor` carries, checked against the list (400 INVALID_CURSOR otherwise).
 */
export function pageOf(
  list: string,
  key: readonly KeyPart[],
  query: { limit?: number; cursor?: string },
): { limit: number; after?: KeyValue[] } {
  return {
    limit: query.limit ?? PAGE_LIMIT.default,
    after: query.cursor === undefined ? undefined : decodeCursor(list, query.cursor, key),
  };
}
