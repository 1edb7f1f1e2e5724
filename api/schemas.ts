/** TypeBox schemas shared by several routes. */
import { Type, type Static } from '@sinclair/typebox';

/** Business ids: letters, digits, `_`, `-`, `.` (":" is reserved for derived serials). */
export const Id = Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'letters, digits, _ - . (1-64)' });

/** An amount in the currency's smallest unit (cents). */
export const AmountCents = Type.Integer({ minimum: 0, maximum: 2_000_000_000, description: 'amount in cents' });

export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'one of the codes in README "Error codes"' }),
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
    deliveryRegion: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    deliveryLocation: Type.Optional(
      Type.Object(
        { latitude: Type.Number({ minimum: -90, maximum: 90 }), longitude: Type.Number({ minimum: -180, maximum: 180 }) },
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

/** Error responses a route may give, for its `response` schema. */
export function errors<const S extends readonly number[]>(...statuses: S) {
  return Object.fromEntries(statuses.map((s) => [s, ErrorBody])) as { [K in S[number]]: typeof ErrorBody };
}
