/**
 * Reconciliation's check of the sagas against the payments: a running order saga that waits
 * on something PostgreSQL says is over. Today that is a saga BACKORDERED whose payment the
 * pre-sale fulfilment already settled CONFIRMED or REFUND_REQUIRED — its signal was lost. The
 * saga would find out at its own next check of PostgreSQL (workflows/order.ts STORED_CHECK_MS);
 * this raises a SAGA_PAYMENT_MISMATCH alert once per order and tells the saga now.
 */
import type { Client } from '@temporalio/client';
import { PaymentState } from '../domain/payments';
import type { SagaMismatch } from '../domain/reports';
import type { Db } from '../data/stock/db';
import { AlertKind, raiseAlert } from '../data/stock/expiry';
import { readPayments } from '../data/stock/payments';
import { orderWorkflowId } from '../workflows/ids';
import { backorderSettledSignal, OrderStatus } from '../workflows/messages';

const WAITING_ON_GOODS = `WorkflowType = 'orderWorkflow' AND ExecutionStatus = 'Running' AND ReservationStatus = '${OrderStatus.BACKORDERED}'`;

export async function checkSagaPayments(db: Db, temporal: Client): Promise<SagaMismatch[]> {
  const found: SagaMismatch[] = [];
  for await (const saga of temporal.workflow.list({ query: WAITING_ON_GOODS })) {
    const orderId = saga.workflowId.replace(/^order-/, '');
    const payments = await readPayments(db, orderId);
    if (payments.some((p) => p.state === PaymentState.BACKORDERED)) continue;
    const ended = payments.find((p) => p.state === PaymentState.CONFIRMED || p.state === PaymentState.REFUND_REQUIRED);
    if (!ended) continue;
    const mismatch = { orderId, sagaStatus: OrderStatus.BACKORDERED, paymentId: ended.paymentId, paymentState: ended.state };
    found.push(mismatch);
    await raiseAlert(db, { kind: AlertKind.SAGA_PAYMENT_MISMATCH, subject: orderId, sku: '-', warehouseCode: '-', details: mismatch });
    const status = ended.state === PaymentState.CONFIRMED ? 'CONFIRMED' : 'REFUND_REQUIRED';
    // Closed in between: nothing to tell.
    await temporal.workflow
      .getHandle(orderWorkflowId(orderId))
      .signal(backorderSettledSignal, { status })
      .catch(() => undefined);
  }
  return found;
}
