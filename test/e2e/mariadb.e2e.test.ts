/**
 * The incident's shape on MariaDB (issue 22), end to end: the real API and worker processes
 * with `DATABASE_URL=mariadb://…` (as the service user), a Temporal dev server and Redis.
 *
 * Stock comes in through the admin API; more shoppers than units order at once (never
 * oversold); an order id sent again gets its first answer; a payment callback retried three
 * times at once deducts once; a cancel and the hold's timeout give the stock back; what the
 * store says afterwards is what its ledger says (no drift).
 */
import type { Pool } from 'mariadb';
import { startDevServer, type DevServer } from '../../platform/dev-server';
import { searchAttributeKeys } from '../../workflows/search-attributes';
import { freePort, runService, waitForHttp, type Service } from '../../platform/processes';
import { mariadbDrifts } from '../../data/mariadb/reconcile';
import { eventually, signedPayment } from '../helpers/app';
import { TEST_REDIS_URL } from '../helpers/env';
import {
  describeMariadb,
  levelOf,
  mariadbPool,
  resetMariadb,
  TEST_MARIADB_APP_URL,
  TEST_MARIADB_URL,
} from '../helpers/mariadb';

const SKU = 'STRAWBERRY-500G';
const WAREHOUSE = 'SH-01';
const UNITS = 10;
const SHOPPERS = 16;
const A = { authorization: 'Bearer dev-admin-token', 'content-type': 'application/json' };

describeMariadb('the service on MariaDB, end to end', () => {
  let temporal: DevServer;
  let worker: Service;
  let api: Service;
  let base: string;
  let owner: Pool;

  beforeAll(async () => {
    await resetMariadb();
    owner = mariadbPool(2);
    temporal = await startDevServer({ searchAttributes: searchAttributeKeys, port: await freePort() });
    const port = await freePort();
    const env = {
      DATABASE_URL: TEST_MARIADB_APP_URL,
      MIGRATION_DATABASE_URL: TEST_MARIADB_URL,
      REDIS_URL: TEST_REDIS_URL,
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: 'mariadb-e2e',
      RESERVATION_TTL_SECONDS: '4',
      WORKER_METRICS_PORT: String(await freePort()),
      LOG_LEVEL: 'warn',
      SAGA_RELAY_GRACE_MS: '500',
      ORDER_RATE_LIMIT_PER_MINUTE: '1000000',
      PORT: String(port),
    };
    worker = runService('worker.ts', env);
    api = runService('api/server.ts', env);
    base = `http://127.0.0.1:${port}`;
    await waitForHttp(`${base}/readyz`);
  }, 180_000);

  afterAll(async () => {
    await api?.stop();
    await worker?.stop();
    await temporal?.stop();
    await owner?.end();
  });

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...A, ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json().catch(() => undefined)) as Record<string, unknown> };
  };
  const order = (orderId: string) =>
    call('POST', '/orders', {
      orderId,
      userId: `u-${orderId}`,
      amountCents: 1299,
      lines: [{ sku: SKU, warehouseCode: WAREHOUSE, quantity: 1 }],
    });
  const statusOf = async (orderId: string) => (await call('GET', `/orders/${orderId}`)).body.status;
  const pay = (orderId: string, paymentId: string) => {
    const { payload, headers } = signedPayment('dev-webhook-secret', {
      eventId: `evt-${paymentId}`,
      type: 'payment.succeeded',
      orderId,
      paymentId,
      amountCents: 1299,
    });
    return fetch(`${base}/webhooks/payments`, { method: 'POST', headers, body: payload }).then((r) => r.status);
  };

  it('sells each unit once, deducts a retried payment once, gives back cancelled and expired holds, and the ledger agrees', async () => {
    expect((await call('PUT', `/admin/products/${SKU}`, { name: 'Strawberries 500 g' })).status).toBe(200);
    expect((await call('PUT', `/admin/warehouses/${WAREHOUSE}`, { name: 'Shanghai' })).status).toBe(200);
    const receipt = { sku: SKU, warehouseCode: WAREHOUSE, quantity: UNITS, reason: 'purchase-order' };
    expect((await call('POST', '/admin/receipts', receipt, { 'idempotency-key': 'po-1' })).status).toBe(201);
    // The receipt's key again: applied once.
    expect((await call('POST', '/admin/receipts', receipt, { 'idempotency-key': 'po-1' })).body.replayed).toBe(true);

    // More shoppers than units, all at once: exactly UNITS holds, the rest refused.
    const answers = await Promise.all(Array.from({ length: SHOPPERS }, (_, i) => order(`o-${i}`)));
    const held = answers.flatMap((a, i) => (a.status === 201 ? [`o-${i}`] : []));
    expect(held).toHaveLength(UNITS);
    expect(answers.filter((a) => a.status === 409).every((a) => a.body.code === 'INSUFFICIENT_STOCK')).toBe(true);
    expect(await levelOf(owner, SKU, WAREHOUSE)).toEqual({ onHand: UNITS, reserved: UNITS });
    // An order id sent again: its first answer, no second hold.
    const again = await order(held[0]);
    expect(again.status).toBe(201);
    expect((await levelOf(owner, SKU, WAREHOUSE)).reserved).toBe(UNITS);

    // The payment callback retried three times at once: one confirm, one unit deducted.
    const [paid, cancelled] = held;
    expect(await Promise.all([pay(paid, 'pay-1'), pay(paid, 'pay-1'), pay(paid, 'pay-1')])).toEqual([200, 200, 200]);
    expect(
      await eventually(
        () => statusOf(paid),
        (s) => s === 'CONFIRMED',
      ),
    ).toBe('CONFIRMED');
    // A cancel gives its unit back.
    expect((await call('POST', `/orders/${cancelled}/cancel`, {})).status).toBeLessThan(300);
    expect(
      await eventually(
        () => statusOf(cancelled),
        (s) => s === 'RELEASED',
      ),
    ).toBe('RELEASED');

    // Every other hold times out (RESERVATION_TTL_SECONDS=4) and is released by its saga.
    await eventually(
      async () => (await levelOf(owner, SKU, WAREHOUSE)).reserved,
      (reserved) => reserved === 0,
      60_000,
    );
    expect(await levelOf(owner, SKU, WAREHOUSE)).toEqual({ onHand: UNITS - 1, reserved: 0 });
    for (const orderId of held.slice(2)) expect(await statusOf(orderId)).toBe('RELEASED');
    // What the store says is what its ledger says.
    expect(await mariadbDrifts(owner)).toEqual([]);
  }, 180_000);
});
