/** Admin API (scope admin): products, warehouses, cache check results, API keys; stock changes in ./stock.ts, returns in ./returns.ts. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { upsertProduct, upsertWarehouse } from '../../../data/stock/catalog';
import { errors, Id, Text } from '../../schemas';
import { Scope } from '../../../domain/api-keys';
import reconciliation from './reconciliation';
import adminStock from './stock';
import returns from './returns';
import cacheChecks from './cache';
import apiKeys from './keys';
import adminLists from './lists';

const Name = Text({ maxLength: 200 });
const Days = Type.Union([Type.Integer({ minimum: 0, maximum: 3650 }), Type.Null()]);
const ProductBody = Type.Object(
  {
    name: Name,
    lotTracked: Type.Optional(Type.Boolean({ description: 'perishable: stock is kept in lots with use-by dates' })),
    alertDaysBeforeExpiry: Type.Optional(Days),
    removalDaysBeforeExpiry: Type.Optional(Days),
  },
  { additionalProperties: false },
);
const Product = Type.Object({
  sku: Type.String(),
  name: Type.String(),
  lotTracked: Type.Boolean(),
  alertDaysBeforeExpiry: Days,
  removalDaysBeforeExpiry: Days,
});
const Coordinate = (limit: number) => Type.Union([Type.Number({ minimum: -limit, maximum: limit }), Type.Null()]);
const WarehouseBody = Type.Object(
  {
    name: Name,
    region: Type.Optional(Text({ maxLength: 64 })),
    priority: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'lower is chosen first' })),
    latitude: Type.Optional(Coordinate(90)),
    longitude: Type.Optional(Coordinate(180)),
  },
  {
    additionalProperties: false,
    // A position is both coordinates or none (the table's CHECK says so too): one alone would
    // keep the other's stored value, half of some other place.
    anyOf: [
      { required: ['latitude', 'longitude'], properties: { latitude: Type.Number(), longitude: Type.Number() } },
      { required: ['latitude', 'longitude'], properties: { latitude: Type.Null(), longitude: Type.Null() } },
      { not: { anyOf: [{ required: ['latitude'] }, { required: ['longitude'] }] } },
    ],
    description: 'latitude and longitude come together: both numbers, both null, or neither',
  },
);
const Warehouse = Type.Object({
  code: Type.String(),
  name: Type.String(),
  region: Type.String(),
  priority: Type.Integer(),
  latitude: Coordinate(90),
  longitude: Coordinate(180),
});

const admin: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.deps;
  await app.register(cacheChecks);

  app.put(
    '/admin/products/:sku',
    {
      config: { access: Scope.ADMIN },
      schema: {
        summary: 'Create or update a product and its perishable settings (idempotent)',
        tags: ['admin'],
        params: Type.Object({ sku: Id }),
        body: ProductBody,
        response: { 200: Product, ...errors(400, 409) },
      },
    },
    async (request) => {
      const { name, ...settings } = request.body;
      const { sku, lotTracked, alertDaysBeforeExpiry, removalDaysBeforeExpiry } = await upsertProduct(
        db,
        request.params.sku,
        name,
        settings,
      );
      return { sku, name, lotTracked, alertDaysBeforeExpiry, removalDaysBeforeExpiry };
    },
  );

  app.put(
    '/admin/warehouses/:code',
    {
      config: { access: Scope.ADMIN },
      schema: {
        summary: 'Create or update a warehouse: name, region, priority, coordinates (idempotent)',
        tags: ['admin'],
        params: Type.Object({ code: Id }),
        body: WarehouseBody,
        response: { 200: Warehouse, ...errors(400) },
      },
    },
    async (request) => {
      const { name, ...placement } = request.body;
      const { code, region, priority, latitude, longitude } = await upsertWarehouse(
        db,
        request.params.code,
        name,
        placement,
      );
      return { code, name, region, priority, latitude, longitude };
    },
  );

  await app.register(adminStock);
  await app.register(returns);
  await app.register(reconciliation);
  await app.register(apiKeys);
  await app.register(adminLists);
};

export default admin;
