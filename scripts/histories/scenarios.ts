/**
 * The sagas whose histories `npm run histories:capture` records: one per path through each
 * workflow type the worker registers. Each drives the real API (or starts the scheduled
 * workflow as its schedule would) and names the workflow runs to record once they closed.
 * Timers are kept short (TTL 1 s, campaigns of a few seconds) so the histories stay small.
 */
import type { FastifyInstance } from 'fastify';
import { reserveStock } from '../../data/orders/reservations';
import { eventually, signedPayment } from '../../test/helpers/app';
import { perishable, receiveLot, stock } from '../../test/helpers/db';
import {
  campaignWorkflowId,
  fulfilmentWorkflowId,
  latePaymentWorkflowId,
  orderWorkflowId,
  transferWorkflowId,
} from '../../workflows/ids';

import {
  ADMIN,
  call,
  closed,
  order,
  orderStatus,
  pay,
  placeOrder,
  started,
  WEBHOOK_SECRET,
  WH,
  type Scenario,
} from './kit';
import { placeOrder as sagaReserves } from '../../test/helpers/saga-reserve';

export { ADMIN_TOKEN, WEBHOOK_SECRET, type Scenario } from './kit';

export const scenarios: readonly Scenario[] = [
  {
    name: 'order-paid',
    async run({ app, db }) {
      await stock(db, 'CAP-PAID', WH, 5);
      await placeOrder(app, 'cap-paid', 'CAP-PAID');
      await pay(app, 'cap-paid');
      return [order('order-paid', 'cap-paid')];
    },
  },
  {
    name: 'order-expired',
    async run({ fastApp, db }) {
      await stock(db, 'CAP-EXPIRED', WH, 5);
      await placeOrder(fastApp, 'cap-expired', 'CAP-EXPIRED');
      return [order('order-expired', 'cap-expired')];
    },
  },
  {
    name: 'order-cancelled',
    async run({ app, db }) {
      await stock(db, 'CAP-CANCEL', WH, 5);
      await placeOrder(app, 'cap-cancel', 'CAP-CANCEL');
      await call(app, 'POST', '/orders/cap-cancel/cancel', { reason: 'capture' });
      return [order('order-cancelled', 'cap-cancel')];
    },
  },
  {
    // The API refuses on the request path and starts no saga; a saga that reserves by itself
    // (started without a hold) records its own refusal.
    name: 'order-rejected',
    async run({ env, db, taskQueue }) {
      await stock(db, 'CAP-SHORT', WH, 1);
      await sagaReserves(
        env.client,
        { orderId: 'cap-short', userId: 'capture', lines: [{ sku: 'CAP-SHORT', warehouseCode: WH, quantity: 3 }] },
        { taskQueue, ttlSeconds: 60 },
      );
      return [order('order-rejected', 'cap-short')];
    },
  },
  {
    // Extended once while it waits (patch order-hold-extension): the timer follows the new
    // expiry, then the hold is released EXPIRED.
    name: 'order-extended',
    async run(stack) {
      const { fastApp, db } = stack;
      await stock(db, 'CAP-EXTEND', WH, 5);
      await placeOrder(fastApp, 'cap-extend', 'CAP-EXTEND');
      await call(fastApp, 'POST', '/orders/cap-extend/extend', {
        extensionId: 'capture',
        seconds: 1,
        reason: 'capture',
      });
      return [order('order-extended', 'cap-extend')];
    },
  },
  {
    // The provider closed the payment for good (payment.canceled): the saga's cancel, reason PAYMENT_CANCELED.
    name: 'order-payment-canceled',
    async run({ app, db }) {
      await stock(db, 'CAP-PAY-CANCELED', WH, 5);
      await placeOrder(app, 'cap-pay-canceled', 'CAP-PAY-CANCELED');
      const signed = signedPayment(WEBHOOK_SECRET, {
        eventId: 'ev-cap-pay-canceled',
        type: 'payment.canceled',
        orderId: 'cap-pay-canceled',
        paymentId: 'pay-cap-pay-canceled',
        amountCents: 1000,
      });
      await call(app, 'POST', '/webhooks/payments', JSON.parse(signed.payload), signed.headers);
      return [order('order-payment-canceled', 'cap-pay-canceled')];
    },
  },
  {
    // A payment right behind the cancel: refunded by the saga (patches order-cancel-wins /
    // settle-cancelled-refunds), never sold.
    name: 'order-cancelled-then-paid',
    async run(stack) {
      const { app, db } = stack;
      await stock(db, 'CAP-CANCEL-PAY', WH, 5);
      await placeOrder(app, 'cap-cancel-pay', 'CAP-CANCEL-PAY');
      await call(app, 'POST', '/orders/cap-cancel-pay/cancel', { reason: 'capture' });
      await pay(app, 'cap-cancel-pay');
      return [order('order-cancelled-then-paid', 'cap-cancel-pay')];
    },
  },
  {
    // Paid after the cancelled order's saga ended: the late settlement refunds it.
    name: 'late-payment-cancelled',
    async run(stack) {
      const { app, db } = stack;
      await stock(db, 'CAP-CANCEL-LATE', WH, 5);
      await placeOrder(app, 'cap-cancel-late', 'CAP-CANCEL-LATE');
      await call(app, 'POST', '/orders/cap-cancel-late/cancel', { reason: 'capture' });
      await closed(stack, orderWorkflowId('cap-cancel-late'));
      await pay(app, 'cap-cancel-late');
      if (!(await started(stack, latePaymentWorkflowId('cap-cancel-late', 'pay-cap-cancel-late'))))
        throw new Error('cap-cancel-late: the payment was not late');
      return [
        { name: 'late-payment-cancelled', workflowId: latePaymentWorkflowId('cap-cancel-late', 'pay-cap-cancel-late') },
      ];
    },
  },
  {
    name: 'order-paid-late',
    async run(stack) {
      const { fastApp, db } = stack;
      await stock(db, 'CAP-LATE', WH, 5);
      await placeOrder(fastApp, 'cap-late', 'CAP-LATE');
      await closed(stack, orderWorkflowId('cap-late'));
      await pay(fastApp, 'cap-late');
      if (!(await started(stack, latePaymentWorkflowId('cap-late', 'pay-cap-late'))))
        throw new Error('cap-late: the payment was not late');
      return [
        order('order-released-then-paid', 'cap-late'),
        { name: 'late-payment', workflowId: latePaymentWorkflowId('cap-late', 'pay-cap-late') },
      ];
    },
  },
  {
    name: 'flash-sale',
    async run(stack) {
      const { app, fastApp, db } = stack;
      await stock(db, 'CAP-FLASH', WH, 20);
      const startsAt = new Date(Date.now() + 2_000).toISOString();
      const endsAt = new Date(Date.now() + 8_000).toISOString();
      await call(
        app,
        'POST',
        '/admin/campaigns',
        { id: 'cap-flash', sku: 'CAP-FLASH', warehouseCode: WH, startsAt, endsAt, quota: 5, perUserLimit: 2 },
        ADMIN,
      );
      const flashOrder = (target: FastifyInstance, orderId: string) =>
        target.inject({
          method: 'POST',
          url: '/campaigns/cap-flash/orders',
          payload: { orderId, userId: `u-${orderId}`, quantity: 1 },
        });
      // NOT_STARTED until the start time; the answer's code is in the error if it never admits.
      const admitted = async () => {
        const res = await flashOrder(app, 'cap-flash-paid');
        return [res.statusCode, res.json().code];
      };
      await eventually(admitted, ([status]) => status === 201);
      await pay(app, 'cap-flash-paid');
      if ((await flashOrder(fastApp, 'cap-flash-expired')).statusCode !== 201)
        throw new Error('cap-flash-expired was not admitted');
      return [
        order('flash-order-paid', 'cap-flash-paid'),
        order('flash-order-expired', 'cap-flash-expired'),
        { name: 'campaign-flash-sale', workflowId: campaignWorkflowId('cap-flash') },
      ];
    },
  },
  {
    name: 'pre-sale',
    async run({ app, db }) {
      await stock(db, 'CAP-OTHER', WH, 1);
      await db.product.create({ data: { sku: 'CAP-MANGO', name: 'Capture mangoes' } });
      const expectedAt = new Date(Date.now() + 14 * 24 * 3600_000).toISOString();
      const endsAt = new Date(Date.now() + 6_000).toISOString();
      await call(
        app,
        'POST',
        '/admin/campaigns',
        {
          id: 'cap-pre',
          kind: 'PRE_SALE',
          expectedAt,
          sku: 'CAP-MANGO',
          warehouseCode: WH,
          startsAt: new Date(Date.now() - 1000).toISOString(),
          endsAt,
          quota: 3,
          perUserLimit: 1,
        },
        ADMIN,
      );
      for (const orderId of ['cap-pre-1', 'cap-pre-2']) {
        await call(app, 'POST', '/campaigns/cap-pre/orders', { orderId, userId: `u-${orderId}`, quantity: 1 });
        await pay(app, orderId);
        await eventually(
          () => orderStatus(app, orderId),
          (s) => s === 'BACKORDERED',
        );
      }
      // One unit arrives: the first payment gets it, the second is refunded.
      await call(
        app,
        'POST',
        '/admin/campaigns/cap-pre/fulfil',
        { quantity: 1 },
        { ...ADMIN, 'idempotency-key': 'cap-grn-1' },
      );
      return [
        order('pre-sale-order-fulfilled', 'cap-pre-1'),
        order('pre-sale-order-refunded', 'cap-pre-2'),
        { name: 'pre-sale-fulfilment', workflowId: fulfilmentWorkflowId('cap-pre') },
        { name: 'campaign-pre-sale', workflowId: campaignWorkflowId('cap-pre') },
      ];
    },
  },
  {
    name: 'transfer',
    async run({ app, db }) {
      await stock(db, 'CAP-MOVE', 'SRC', 10);
      await stock(db, 'CAP-MOVE', 'DST', 1);
      await call(
        app,
        'POST',
        '/transfers',
        { transferId: 'cap-move', sku: 'CAP-MOVE', fromWarehouse: 'SRC', toWarehouse: 'DST', quantity: 4 },
        ADMIN,
      );
      await call(app, 'POST', '/transfers/cap-move/ship', undefined, ADMIN);
      // Refused for good (more than shipped): the step reopens (transfer-failed-step-reopens).
      const refused = await app.inject({
        method: 'POST',
        url: '/transfers/cap-move/receive',
        payload: { receivedQuantity: 5 },
        headers: ADMIN,
      });
      if (refused.statusCode !== 400)
        throw new Error(`a receive of more than shipped answered ${refused.statusCode}: ${refused.body}`);
      await call(app, 'POST', '/transfers/cap-move/receive', { receivedQuantity: 4 }, ADMIN);
      return [{ name: 'transfer-received', workflowId: transferWorkflowId('cap-move') }];
    },
  },
  {
    name: 'sweeper',
    async run({ env, app, db, taskQueue }) {
      await stock(db, 'CAP-SWEEP', WH, 10);
      const past = new Date(Date.now() - 10 * 60_000);
      // An orphan (no workflow) is released; a live saga past its expiry is reported.
      await reserveStock(db, {
        reservationId: 'cap-orphan',
        orderId: 'cap-orphan',
        userId: 'u',
        lines: [{ sku: 'CAP-SWEEP', warehouseCode: WH, quantity: 1 }],
        expiresAt: past.toISOString(),
      });
      await placeOrder(app, 'cap-stuck', 'CAP-SWEEP');
      await db.reservation.update({ where: { id: 'cap-stuck' }, data: { expiresAt: past } });
      await env.client.workflow.execute('sweeperWorkflow', { taskQueue, workflowId: 'cap-sweep', args: [60] });
      await call(app, 'POST', '/orders/cap-stuck/cancel', { reason: 'capture' });
      return [{ name: 'sweeper', workflowId: 'cap-sweep' }];
    },
  },
  {
    name: 'expiry-check',
    async run({ env, db, taskQueue }) {
      await perishable(db, 'CAP-BERRY', 3, 1);
      await receiveLot(db, 'CAP-BERRY', WH, 'NEAR', 4, 2);
      await receiveLot(db, 'CAP-BERRY', WH, 'GONE', 5, 0.5);
      await env.client.workflow.execute('expiryWorkflow', { taskQueue, workflowId: 'cap-expiry', args: [] });
      return [{ name: 'expiry-check', workflowId: 'cap-expiry' }];
    },
  },
  {
    name: 'reconciliation',
    async run({ env, taskQueue }) {
      await env.client.workflow.execute('reconciliationWorkflow', {
        taskQueue,
        workflowId: 'cap-reconcile',
        args: [5],
      });
      return [{ name: 'reconciliation', workflowId: 'cap-reconcile' }];
    },
  },
  {
    name: 'payment-check',
    async run({ env, taskQueue }) {
      await env.client.workflow.execute('paymentCheckWorkflow', {
        taskQueue,
        workflowId: 'cap-payment-check',
        args: [5],
      });
      return [{ name: 'payment-check', workflowId: 'cap-payment-check' }];
    },
  },
  {
    name: 'cache-check',
    async run({ env, taskQueue }) {
      await env.client.workflow.execute('cacheCheckWorkflow', {
        taskQueue,
        workflowId: 'cap-cache-check',
        args: [{ hotPercent: 10, sample: 10, driftPercent: 1 }],
      });
      return [{ name: 'cache-check', workflowId: 'cap-cache-check' }];
    },
  },
];
