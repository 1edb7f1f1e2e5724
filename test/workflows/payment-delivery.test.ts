/**
 * A signed payment is answered once it is stored, and ends settled whatever the timing, on
 * the real stack (Temporal dev server, the real worker activities, PostgreSQL, Redis): the
 * webhook answers ACCEPTED with Temporal unreachable and the relay delivers later; a payment
 * for an order PostgreSQL does not know is kept, delivered if the hold commits within the
 * grace, else settled REFUND_REQUIRED (UNKNOWN_ORDER) with an alert; a delivered payment the
 * saga never settled is delivered again at its re-check; the backstop survives a bad payment
 * and reads every page of PENDING payments.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { FastifyInstance } from 'fastify';
import { relayPaymentDeliveries, type PaymentRelayOptions } from '../../use-cases/payment-relay';
import { settleStalePayments } from '../../use-cases/settle-stale-payments';
import type { DeliveryTarget } from '../../use-cases/deliver-payment';
import type { Db } from '../../data/db';
import { acceptPayment, recordDelivered } from '../../data/payments/payment-deliveries';
import { findUnsettledPayments, type PaymentCursor } from '../../data/payments/payments';
import { closeConnection, lazyClient } from '../../platform/temporal';
import { orderWorkflowId } from '../../workflows/ids';
import { paymentSignal } from '../../workflows/messages';
import { signalAfterMiss } from '../../use-cases/order-sagas';
import type { OrderState } from '../../domain/order-saga';
import { eventually, signedPayment, testApp, useAppStack } from '../helpers/app';
import { invariantViolations, stock } from '../helpers/db';
import { testConfig } from '../helpers/env';

const TASK_QUEUE = 'payment-delivery-test';
const SECRET = 'test-webhook-secret';
// The relay may take a row at once (no API attempt to wait for); PENDING payments are stale at once.
const stack = useAppStack('dev', TASK_QUEUE, { RESERVATION_TTL_SECONDS: '600', PAYMENT_RELAY_GRACE_MS: '0' });
let db: Db;
let app: FastifyInstance;
let target: DeliveryTarget;
beforeAll(() => {
  ({ db, app } = stack);
  target = { db, temporal: stack.env.client, taskQueue: TASK_QUEUE, ttlSeconds: 60 };
});
afterEach(async () => {
  expect(await invariantViolations(db)).toEqual([]);
});

const relayOptions = (unknownOrderGraceSeconds: number): PaymentRelayOptions => ({
  batch: 100,
  maxBackoffMs: 500,
  intervalMs: 100,
  recheckMs: 1_000,
  unknownOrderGraceSeconds,
});
const failures: unknown[] = [];
/** One relay pass, as the worker runs it; returns the rows it took. */
const relayPass = (graceSeconds = 3600) =>
  relayPaymentDeliveries(target, relayOptions(graceSeconds), (_d, _attempt, err) => {
    if (err) failures.push(err);
  });
/** Relay passes until the payment's state is `state`. */
const relayUntil = (orderId: string, done: (state: string | undefined) => boolean, graceSeconds = 3600) =>
  eventually(async () => {
    await relayPass(graceSeconds);
    return (await db.payment.findFirst({ where: { orderId } }))?.state;
  }, done);

const pay = (via: FastifyInstance, orderId: string, paymentId = `p-${orderId}`, eventId = `ev-${paymentId}`) => {
  const signed = signedPayment(SECRET, { eventId, type: 'payment.succeeded', orderId, paymentId, amountCents: 1000 });
  return via.inject({ method: 'POST', url: '/webhooks/payments', payload: signed.payload, headers: signed.headers });
};
const placeOrder = (via: FastifyInstance, orderId: string, sku: string) =>
  via.inject({
    method: 'POST',
    url: '/orders',
    payload: { orderId, userId: 'u1', lines: [{ sku, warehouseCode: 'W1', quantity: 1 }] },
  });
const sagaResult = async (orderId: string) => {
  const handle = stack.env.client.workflow.getHandle(orderWorkflowId(orderId));
  await eventually(
    () =>
      handle.describe().then(
        () => true,
        () => false,
      ),
    (exists) => exists,
  );
  return (await handle.result()) as OrderState;
};

describe('a payment for an order PostgreSQL does not know is never deleted', () => {
  it('answers 200 ACCEPTED, keeps it through the grace, then settles it REFUND_REQUIRED (UNKNOWN_ORDER) with an alert', async () => {
    const res = await pay(app, 'ghost-1');
    expect([res.statusCode, res.json()]).toEqual([
      200,
      { eventId: 'ev-p-ghost-1', orderId: 'ghost-1', result: 'ACCEPTED' },
    ]);
    // Within the grace (the hold may be committing): kept PENDING, its delivery open.
    expect(await relayPass(3600)).toBe(1);
    expect(await db.payment.findMany({ where: { orderId: 'ghost-1' } })).toMatchObject([
      { paymentId: 'p-ghost-1', state: 'PENDING' },
    ]);
    expect(await db.paymentDelivery.count({ where: { orderId: 'ghost-1' } })).toBe(1);

    // Past the grace: settled for a refund, alerted, listed; the delivery closes.
    expect(await relayUntil('ghost-1', (s) => s !== 'PENDING', 0)).toBe('REFUND_REQUIRED');
    expect(await db.payment.findFirst({ where: { orderId: 'ghost-1' } })).toMatchObject({
      state: 'REFUND_REQUIRED',
      reason: 'UNKNOWN_ORDER',
    });
    expect(await db.paymentDelivery.count({ where: { orderId: 'ghost-1' } })).toBe(0);
    const alerts = (await app.inject({ method: 'GET', url: '/alerts?kind=PAYMENT_UNKNOWN_ORDER' })).json().alerts;
    expect(alerts).toMatchObject([
      { kind: 'PAYMENT_UNKNOWN_ORDER', details: { orderId: 'ghost-1', paymentId: 'p-ghost-1', amountCents: 1000 } },
    ]);
    // The same event again gets its first answer; the payment under a new event is SETTLED.
    expect((await pay(app, 'ghost-1')).json()).toMatchObject({ result: 'ACCEPTED' });
    expect((await pay(app, 'ghost-1', 'p-ghost-1', 'ev-again')).json()).toMatchObject({ result: 'SETTLED' });
  });

  it('a hold that commits within the grace gets its payment delivered normally: CONFIRMED', async () => {
    await stock(db, 'LATEHOLD', 'W1', 3);
    expect((await pay(app, 'latehold-1')).json()).toMatchObject({ result: 'ACCEPTED' });
    expect(await relayPass(3600)).toBe(1);
    expect((await db.payment.findFirst({ where: { orderId: 'latehold-1' } }))?.state).toBe('PENDING');
    expect((await placeOrder(app, 'latehold-1', 'LATEHOLD')).statusCode).toBe(201);
    expect(await relayUntil('latehold-1', (s) => s !== 'PENDING')).toBe('CONFIRMED');
    expect(await sagaResult('latehold-1')).toMatchObject({ status: 'CONFIRMED' });
  });
});

it('with Temporal unreachable the webhook answers 200 ACCEPTED; once it is back the relay delivers and the order confirms', async () => {
  await stock(db, 'DARK', 'W1', 3);
  // An API whose Temporal address points nowhere: holds and payments still commit.
  const nowhere = lazyClient(testConfig({ TEMPORAL_ADDRESS: '127.0.0.1:1' }));
  const { app: dark } = await testApp({ client: nowhere } as TestWorkflowEnvironment, db, {
    TEMPORAL_TASK_QUEUE: TASK_QUEUE,
    SAGA_RELAY_GRACE_MS: '0',
  });
  try {
    expect((await placeOrder(dark, 'dark-1', 'DARK')).statusCode).toBe(201);
    const res = await pay(dark, 'dark-1');
    expect([res.statusCode, res.json().result]).toEqual([200, 'ACCEPTED']);
    expect(await db.paymentDelivery.count({ where: { orderId: 'dark-1' } })).toBe(1);
    // Temporal is there for the worker's relay: it starts the saga with the payment (signal-with-start).
    expect(await relayUntil('dark-1', (s) => s !== 'PENDING')).toBe('CONFIRMED');
    expect(await sagaResult('dark-1')).toMatchObject({ status: 'CONFIRMED' });
    // The dark API's own attempts gave up (its gRPC retries end), leaving the work to the relay.
    const apiFailures = async () =>
      (await dark.deps.metrics.paymentDeliveries.get()).values.find(
        (v) => v.labels.source === 'api' && v.labels.outcome === 'failed',
      )?.value ?? 0;
    await eventually(
      async () => (await apiFailures()) === 1 && dark.holds.starter.pending === 0,
      (done) => done,
      90_000,
    );
  } finally {
    await dark.close();
    await closeConnection(nowhere.connection).catch(() => undefined);
  }
  await eventually(
    async () => {
      await relayPass();
      return db.paymentDelivery.count({ where: { orderId: 'dark-1' } });
    },
    (n) => n === 0,
  );
});

it('a signal the saga accepted but never settled is delivered again at the re-check (a late settlement)', async () => {
  await stock(db, 'SWALLOW', 'W1', 3);
  expect((await placeOrder(app, 'swallow-1', 'SWALLOW')).statusCode).toBe(201);
  expect((await app.inject({ method: 'POST', url: '/orders/swallow-1/cancel' })).statusCode).toBe(202);
  expect(await sagaResult('swallow-1')).toMatchObject({ status: 'RELEASED' });
  // As if the signal had been accepted while the saga was completing: recorded DELIVERED, still PENDING.
  const payment = { orderId: 'swallow-1', paymentId: 'p-swallow', eventId: 'ev-swallow', amountCents: 1000 };
  expect(await acceptPayment(db, payment, 0)).toMatchObject({ kind: 'accepted', answer: 'ACCEPTED' });
  await recordDelivered(db, payment, 'DELIVERED', 60_000);
  expect(await relayPass()).toBe(0); // not due before its re-check
  await db.paymentDelivery.updateMany({ where: { orderId: 'swallow-1' }, data: { nextAttemptAt: new Date() } });
  expect(await relayUntil('swallow-1', (s) => s !== 'PENDING')).toMatch(/^(CONFIRMED|REFUND_REQUIRED)$/);
  await eventually(
    async () => {
      await relayPass();
      return db.paymentDelivery.count({ where: { orderId: 'swallow-1' } });
    },
    (n) => n === 0,
  );
});

describe('the backstop', () => {
  const stale = (orderId: string, receivedAt = new Date(Date.now() - 600_000)) =>
    db.payment.create({
      data: { orderId, paymentId: `p-${orderId}`, eventId: `ev-${orderId}`, amountCents: 500, receivedAt },
    });

  it('one payment whose delivery fails does not stop the pass; every page of PENDING payments is driven', async () => {
    // A poisoned outbox row: its saga can never be started, so this delivery throws.
    await db.sagaStart.create({ data: { orderId: 'poison-1', input: {} } });
    await stale('poison-1');
    for (const id of ['lost-1', 'lost-2', 'lost-3', 'lost-4']) await stale(id);
    const found = await settleStalePayments(target, stack.worker.metrics, 5, {
      recheckMs: 1_000,
      unknownOrderGraceSeconds: 0,
      pageSize: 2,
    });
    expect(found.map((f) => [f.orderId, f.action.startsWith('FAILED') ? 'FAILED' : f.action]).sort()).toEqual([
      ['lost-1', 'REFUND_REQUIRED'],
      ['lost-2', 'REFUND_REQUIRED'],
      ['lost-3', 'REFUND_REQUIRED'],
      ['lost-4', 'REFUND_REQUIRED'],
      ['poison-1', 'FAILED'],
    ]);
    expect(
      await db.payment.count({
        where: { orderId: { startsWith: 'lost-' }, state: 'REFUND_REQUIRED', reason: 'UNKNOWN_ORDER' },
      }),
    ).toBe(4);
    expect(
      await db.stockAlert.count({ where: { kind: 'PAYMENT_UNSETTLED', subject: { startsWith: 'poison-1/' } } }),
    ).toBe(1);
    const failed = (await stack.worker.metrics.paymentDeliveries.get()).values.find(
      (v) => v.labels.source === 'backstop' && v.labels.outcome === 'failed',
    );
    expect(failed?.value).toBe(1);
    await db.sagaStart.delete({ where: { orderId: 'poison-1' } });
    await db.payment.delete({ where: { orderId_paymentId: { orderId: 'poison-1', paymentId: 'p-poison-1' } } });
  });

  it('pages through PENDING payments by keyset: none skipped or repeated, ties on receivedAt included', async () => {
    const at = new Date(Date.now() - 900_000);
    for (const id of ['tie-c', 'tie-a', 'tie-b', 'tie-e', 'tie-d']) await stale(id, at);
    const seen: string[] = [];
    let after: PaymentCursor | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await findUnsettledPayments(db, 5, { after, limit: 2 });
      seen.push(...page.map((p) => p.orderId));
      if (page.length < 2) break;
      after = page[page.length - 1];
    }
    expect(seen).toEqual(['tie-a', 'tie-b', 'tie-c', 'tie-d', 'tie-e']);
    await db.payment.deleteMany({ where: { orderId: { startsWith: 'tie-' } } });
  });
});

it('a payment whose signal missed a saga that was starting meanwhile goes to that saga: confirmed on its own hold, not settled late', async () => {
  await stock(db, 'RACE', 'W1', 5);
  expect((await placeOrder(app, 'race-1', 'RACE')).statusCode).toBe(201);
  // The API's after-commit start lands and marks the outbox row: what happened between a
  // payment's first signal (no saga yet: not found) and its read of the outbox.
  await eventually(
    () => db.sagaStart.findUnique({ where: { orderId: 'race-1' }, select: { startedAt: true } }),
    (row) => Boolean(row?.startedAt),
  );
  const payment = { orderId: 'race-1', paymentId: 'p-race', eventId: 'ev-race', amountCents: 1000 };
  expect(await acceptPayment(db, payment, 0)).toMatchObject({ kind: 'accepted', answer: 'ACCEPTED' });
  const { orderId: _orderId, ...signalled } = payment;
  expect(await signalAfterMiss(stack.env.client, db, TASK_QUEUE, 'race-1', paymentSignal, [signalled])).toBe(
    'signalled',
  );
  expect(await sagaResult('race-1')).toMatchObject({ status: 'CONFIRMED', payment: { paymentId: 'p-race' } });
  expect(await db.payment.findFirst({ where: { orderId: 'race-1' } })).toMatchObject({
    state: 'CONFIRMED',
    reservationId: 'race-1',
  });
  // Once the saga has closed, a second miss is an ending: the caller settles from PostgreSQL.
  expect(
    await signalAfterMiss(stack.env.client, db, TASK_QUEUE, 'race-1', paymentSignal, [
      { ...signalled, paymentId: 'p-race-2', eventId: 'ev-race-2' },
    ]),
  ).toBe('ended');
});
