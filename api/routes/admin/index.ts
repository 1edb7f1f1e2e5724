/** Admin API (bearer token): products, warehouses, goods receipts, cache check results. */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { receiveStock, upsertProduct, upsertWarehouse } from '../../../activities/store/catalog';
import { requireAdmin } from '../../plugins/admin-auth';
import { errors, Id } from '../../schemas';
import cacheChecks from './cache';

const Named = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) }, { additionalProperties: false });
const security = [{ adminToken: [] }];

const admin: FastifyPluginAsyncTypebox = async (app) => {
  const { db, config } = app.deps;
  app.addHook('onRequest', requireAdmin(config.adminToken));
  await app.register(cacheChecks);

  app.put(
    '/admin/products/:sku',
    {
      schema: {
        summary: 'Create or rename a product (idempotent)',
        tags: ['admin'],
        security,
        params: Type.Object({ sku: Id }),
        body: Named,
        response: { 200: Type.Object({ sku: Type.String(), name: Type.String() }), ...errors(400, 401) },
      },
    },
    async (request) => {
      const p = await upsertProduct(db, request.params.sku, request.body.name);
      return { sku: p.sku, name: p.name };
    },
  );

  app.put(
    '/admin/warehouses/:code',
    {
      schema: {
        summary: 'Create or rename a warehouse (idempotent)',
        tags: ['admin'],
        security,
        params: Type.Object({ code: Id }),
        body: Named,
        response: { 200: Type.Object({ code: Type.String(), name: Type.String() }), ...errors(400, 401) },
      },
    },
    async (request) => {
      const w = await upsertWarehouse(db, request.params.code, request.body.name);
      return { code: w.code, name: w.name };
    },
  );

  app.post(
    '/admin/receipts',
    {
      schema: {
        summary: 'Receive goods into a warehouse (idempotent by the Idempotency-Key header)',
        tags: ['admin'],
        security,
        headers: Type.Object({ 'idempotency-key': Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' }) }),
        body: Type.Object(
          { sku: Id, warehouseCode: Id, quantity: Type.Integer({ minimum: 1, maximum: 10_000_000 }), reason: Type.String({ minLength: 1, maxLength: 100 }) },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            sku: Type.String(),
            warehouseCode: Type.String(),
            quantity: Type.Integer(),
            reason: Type.String(),
            onHand: Type.Integer(),
            reserved: Type.Integer(),
            replayed: Type.Boolean(),
          }),
          ...errors(400, 401, 404, 409),
        },
      },
    },
    async (request, reply) => {
      const outcome = await receiveStock(db, { idempotencyKey: request.headers['idempotency-key'], ...request.body });
      return reply.code(201).send(outcome);
    },
  );
};

export default admin;
