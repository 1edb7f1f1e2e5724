/**
 * A cancel needs the saga: with Temporal unreachable the API answers 503 SERVICE_UNAVAILABLE
 * (or 504 WORKFLOW_TIMEOUT when the call runs out of WORKFLOW_WAIT_TIMEOUT_MS first), records no cancel, and the
 * same cancel succeeds once Temporal answers. Before, the gRPC failure escaped as a 500.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import type Redis from 'ioredis';
import type { Db } from '../../data/db';
import { closeConnection, lazyClient } from '../../platform/temporal';
import { testApp } from '../helpers/app';
import { resetDb, stock, testDb } from '../helpers/db';
import { testConfig } from '../helpers/env';

let db: Db;
let app: FastifyInstance;
let redis: Redis;
const nowhere = lazyClient(testConfig({ TEMPORAL_ADDRESS: '127.0.0.1:1' }));

beforeAll(async () => {
  db = testDb();
  await resetDb(db);
  ({ app, redis } = await testApp({ client: nowhere } as TestWorkflowEnvironment, db, {
    ORDER_QUERY_TIMEOUT_MS: '1500',
  }));
});
afterAll(async () => {
  await app?.close();
  redis?.disconnect();
  await closeConnection(nowhere.connection);
  await db?.$disconnect();
});

it('Temporal unreachable: a cancel is 503/504 with a code, not a 500, and no cancel is recorded', async () => {
  await stock(db, 'CU', 'W1', 2);
  const placed = await app.inject({
    method: 'POST',
    url: '/orders',
    payload: { orderId: 'cu-1', userId: 'u1', lines: [{ sku: 'CU', warehouseCode: 'W1', quantity: 1 }] },
  });
  expect(placed.statusCode).toBe(201);
  const res = await app.inject({ method: 'POST', url: '/orders/cu-1/cancel', payload: { reason: 'changed my mind' } });
  expect([503, 504]).toContain(res.statusCode);
  expect(['SERVICE_UNAVAILABLE', 'WORKFLOW_TIMEOUT']).toContain(res.json().code);
  // The order reads from PostgreSQL meanwhile, still held and not cancelled.
  const read = await app.inject({ method: 'GET', url: '/orders/cu-1' });
  expect(read.json()).toMatchObject({ source: 'database', status: 'AWAITING_PAYMENT' });
  expect(read.json().cancelIgnored).toBeUndefined();
}, 30_000);
