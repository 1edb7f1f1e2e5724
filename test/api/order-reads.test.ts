/**
 * Reading and cancelling an order when the saga cannot answer, on the real stack (a Temporal
 * dev server, PostgreSQL, Redis): with no worker polling the saga's task queue its query cannot
 * be answered, and GET /orders/:id answers from PostgreSQL (`source: 'database'`), never 5xx. A
 * cancel is fenced (a retry gets the first answer) and one overtaken by a payment says so
 * (`cancelIgnored`), whichever source answers.
 */
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../../data/db';
import { orderWorkflowId } from '../../workflows/ids';
import { statusQuery } from '../../workflows/messages';
import { eventually, signedPayment, testApp } from '../helpers/app';
import { stock } from '../helpers/db';
import { useSagaStack } from '../helpers/temporal';

const TASK_QUEUE = 'order-reads-test';
/** A task queue no worker polls: sagas started there run in Temporal, and nobody answers their queries. */
const STARVED_QUEUE = 'order-reads-no-worker';
const SECRET = 'test-webhook-secret';
const stack = useSagaStack('dev', TASK_QUEUE);
let db: Db;
let app: FastifyInstance;
let starved: FastifyInstance;

/**
 * The API's Temporal client with something slipped in around its status queries:
 * `afterQuery` runs once the real query has answered (before the route sees the answer);
 * `queryFails` makes the query of that workflow fail as an unreachable Temporal would.
 */
const hooks: { afterQuery?: (workflowId: string) => Promise<void>; queryFails?: string } = {};
function hooked(client: Client): Client {
  const workflow = Object.create(client.workflow, {
    getHandle: {
      value: (workflowId: string) => {
        const handle = client.workflow.getHandle(workflowId);
        const query = async (...args: Parameters<typeof handle.query>) => {
          if (workflowId === hooks.queryFails) throw new Error('14 UNAVAILABLE: No connection established (injected)');
          const answer = await handle.query(...args);
          await hooks.afterQuery?.(workflowId);
          return answer;
        };
        return Object.assign(Object.create(handle), { query });
      },
    },
  });
  return Object.create(client, { workflow: { value: workflow } }) as Client;
}

beforeAll(async () => {
  db = stack.db;
  const env = Object.create(stack.env, { client: { value: hooked(stack.env.client) } });
  ({ app } = await testApp(env, db, { TEMPORAL_TASK_QUEUE: TASK_QUEUE }));
  ({ app: starved } = await testApp(stack.env, db, {
    TEMPORAL_TASK_QUEUE: STARVED_QUEUE,
    ORDER_QUERY_TIMEOUT_MS: '300',
  }));
});
afterAll(async () => {
  await app?.close();
  await starved?.close();
});

const sagaStatus = (orderId: string) =>
  stack.env.client.workflow
    .getHandle(orderWorkflowId(orderId))
    .describe()
    .then((d) => d.status.name)
    .catch(() => 'NONE');

it('with no worker to answer the saga, GET /orders/:id answers from PostgreSQL (source database), never 5xx', async () => {
  await stock(db, 'STARVE', 'W1', 5);
  const line = { sku: 'STARVE', warehouseCode: 'W1', quantity: 2 };
  const placed = await starved.inject({
    method: 'POST',
    url: '/orders',
    payload: { orderId: 'starved-1', userId: 'u-starved', lines: [line] },
  });
  expect(placed.statusCode).toBe(201);
  // The saga was started on a task queue no worker polls: Temporal has it, nobody can answer its query.
  await eventually(
    () => sagaStatus('starved-1'),
    (s) => s === 'RUNNING',
  );
  const res = await starved.inject({ method: 'GET', url: '/orders/starved-1' });
  expect(res.statusCode).toBe(200);
  expect(res.json()).toMatchObject({
    orderId: 'starved-1',
    userId: 'u-starved',
    status: 'AWAITING_PAYMENT',
    source: 'database',
    lines: [line],
    expiresAt: placed.json().expiresAt,
    payments: [],
  });
  // A cancel reads the order the same way, and the saga gets its signal (it acts once a worker comes).
  const cancel = await starved.inject({ method: 'POST', url: '/orders/starved-1/cancel' });
  expect([cancel.statusCode, cancel.json()]).toEqual([202, { orderId: 'starved-1', status: 'CANCELLING' }]);
  const history = await stack.env.client.workflow.getHandle(orderWorkflowId('starved-1')).fetchHistory();
  expect(history.events?.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'cancel')).toBe(true);
  await stack.env.client.workflow.getHandle(orderWorkflowId('starved-1')).terminate('test over');
});

it('a cancel overtaken by a payment: answered 202 once and again on retry, and GET says cancelIgnored (saga or database)', async () => {
  await stock(db, 'OTHER', 'W1', 1); // the warehouse
  await db.product.create({ data: { sku: 'PO-MANGO', name: 'Pre-order mangoes' } });
  const campaign = await app.inject({
    method: 'POST',
    url: '/admin/campaigns',
    payload: {
      id: 'po-camp',
      kind: 'PRE_SALE',
      expectedAt: new Date(Date.now() + 14 * 24 * 3600_000).toISOString(),
      sku: 'PO-MANGO',
      warehouseCode: 'W1',
      startsAt: new Date(Date.now() - 1000).toISOString(),
      endsAt: new Date(Date.now() + 3600_000).toISOString(),
      quota: 4,
      perUserLimit: 1,
    },
  });
  expect(campaign.statusCode).toBe(201);
  expect(
    (
      await app.inject({
        method: 'POST',
        url: '/campaigns/po-camp/orders',
        payload: { orderId: 'po-1', userId: 'u-po', quantity: 1 },
      })
    ).statusCode,
  ).toBe(201);
  const read = async () => (await app.inject({ method: 'GET', url: '/orders/po-1' })).json();
  await eventually(read, (s) => s.status === 'AWAITING_PAYMENT');

  // The cancel reads AWAITING_PAYMENT; right then the payment lands and the saga settles it
  // (a pre-order waits BACKORDERED for its goods); then the cancel's signal reaches the saga.
  let paid = false;
  hooks.afterQuery = async (workflowId) => {
    if (workflowId !== orderWorkflowId('po-1') || paid) return;
    paid = true;
    const signed = signedPayment(SECRET, {
      eventId: 'ev-po-1',
      type: 'payment.succeeded',
      orderId: 'po-1',
      paymentId: 'pay-po-1',
      amountCents: 1500,
    });
    expect(
      (
        await app.inject({
          method: 'POST',
          url: '/webhooks/payments',
          payload: signed.payload,
          headers: signed.headers,
        })
      ).statusCode,
    ).toBe(200);
    await eventually(
      () => stack.env.client.workflow.getHandle(orderWorkflowId('po-1')).query(statusQuery),
      (s) => s.status === 'BACKORDERED',
    );
  };
  const cancel = await app.inject({
    method: 'POST',
    url: '/orders/po-1/cancel',
    payload: { reason: 'changed my mind' },
  });
  hooks.afterQuery = undefined;
  expect(paid).toBe(true);
  expect([cancel.statusCode, cancel.json()]).toEqual([202, { orderId: 'po-1', status: 'CANCELLING' }]);

  // The payment made the sale: the order says the cancel was ignored, and why.
  expect(await read()).toMatchObject({
    status: 'BACKORDERED',
    source: 'saga',
    cancelIgnored: true,
    cancelIgnoredReason: 'PAID',
  });
  // A retried cancel gets the first answer, not a 409 for the state it now sees.
  const again = await app.inject({
    method: 'POST',
    url: '/orders/po-1/cancel',
    payload: { reason: 'changed my mind' },
  });
  expect([again.statusCode, again.json()]).toEqual([202, cancel.json()]);
  // PostgreSQL's view says the same when the saga cannot answer.
  hooks.queryFails = orderWorkflowId('po-1');
  try {
    expect(await read()).toMatchObject({
      status: 'BACKORDERED',
      source: 'database',
      cancelIgnored: true,
      cancelIgnoredReason: 'PAID',
    });
  } finally {
    hooks.queryFails = undefined;
  }
});
