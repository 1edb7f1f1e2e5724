/**
 * Issue 16 item 3, with Temporal really unreachable: the order is held (PostgreSQL decides on
 * the request path), the payment lands and is stored while no Temporal server runs, the hold's
 * expiry passes, then Temporal comes up and the relay starts the saga from the outbox. The
 * payment was received before `expiresAt`, so it is on time: the saga confirms the order's own
 * hold with it — not a late re-reserve, not a refund.
 */
import { Client } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../data/db';
import { startDevServer, type DevServer } from '../../platform/dev-server';
import { searchAttributeKeys } from '../../workflows/search-attributes';
import { freePort } from '../../platform/processes';
import { relaySagaStarts } from '../../use-cases/order-sagas';
import { closeConnection, lazyConnection } from '../../platform/temporal';
import { orderWorkflowId } from '../../workflows/ids';
import type { OrderState } from '../../domain/order-saga';
import { eventually, signedPayment, testApp } from '../helpers/app';
import { invariantViolations, level, resetDb, stock, testDb } from '../helpers/db';
import { startWorker, type RunningWorker } from '../helpers/temporal';

const TASK_QUEUE = 'temporal-down-expiry';
const TTL_SECONDS = 3;

let db: Db;
let port: number;
let client: Client;
let app: FastifyInstance;
let server: DevServer | undefined;
let env: TestWorkflowEnvironment | undefined;
let worker: RunningWorker | undefined;

beforeAll(async () => {
  db = testDb();
  await resetDb(db);
  port = await freePort();
  // The API's client points at a Temporal that is not there yet.
  client = new Client({ connection: lazyConnection({ address: `127.0.0.1:${port}`, connectTimeout: 500 }) });
  ({ app } = await testApp({ client } as TestWorkflowEnvironment, db, {
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    RESERVATION_TTL_SECONDS: String(TTL_SECONDS),
  }));
});
afterAll(async () => {
  await app?.close();
  await worker?.stop();
  await env?.teardown();
  await server?.stop();
  if (client) await closeConnection(client.connection);
  await db?.$disconnect();
});

it('a payment stored while Temporal is down, before the expiry, confirms the order’s own hold once Temporal is back', async () => {
  await stock(db, 'TD', 'W1', 3);
  const placed = await app.inject({
    method: 'POST',
    url: '/orders',
    payload: { orderId: 'td-1', userId: 'u1', lines: [{ sku: 'TD', warehouseCode: 'W1', quantity: 1 }] },
  });
  expect(placed.statusCode).toBe(201);
  const expiresAt = Date.parse(placed.json().expiresAt);

  const signed = signedPayment('test-webhook-secret', {
    eventId: 'ev-td-1',
    type: 'payment.succeeded',
    orderId: 'td-1',
    paymentId: 'pay-td-1',
    amountCents: 1000,
  });
  await app.inject({ method: 'POST', url: '/webhooks/payments', payload: signed.payload, headers: signed.headers });
  // Whatever the webhook could tell the provider, the payment is a fact before the expiry.
  const [stored] = await db.payment.findMany({ where: { orderId: 'td-1' } });
  expect(stored).toMatchObject({ state: 'PENDING' });
  expect(stored.receivedAt.getTime()).toBeLessThanOrEqual(expiresAt);

  // Temporal stays down across the expiry.
  await eventually(
    async () => Date.now(),
    (now) => now > expiresAt + 500,
    10_000,
  );
  server = await startDevServer({ searchAttributes: searchAttributeKeys, port });
  env = await TestWorkflowEnvironment.createFromExistingServer({ address: server.address });
  worker = await startWorker(env, db, TASK_QUEUE);
  // The relay starts what the API could not (the API's own start may get there first: harmless).
  await relaySagaStarts(db, env.client, TASK_QUEUE, { graceMs: 0, intervalMs: 100, batch: 10 });

  const state = (await env.client.workflow.getHandle(orderWorkflowId('td-1')).result()) as OrderState;
  expect(state).toMatchObject({ status: 'CONFIRMED', payments: [{ paymentId: 'pay-td-1', state: 'CONFIRMED' }] });
  expect(state.lateConfirmed).toBeUndefined();
  expect(await db.payment.findMany({ where: { orderId: 'td-1' } })).toMatchObject([
    { state: 'CONFIRMED', reservationId: 'td-1' },
  ]);
  expect(await level(db, 'TD', 'W1')).toEqual({ onHand: 2, reserved: 0 });
  expect(await invariantViolations(db)).toEqual([]);
});
