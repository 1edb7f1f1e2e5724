/**
 * Reconciliation's check of the sagas against the payments: a running order saga that waits
 * on something PostgreSQL says is over. Today that is a saga BACKORDERED whose payment the
 * pre-sale fulfilment already settled CONFIRMED or REFUND_REQUIRED — its signal was lost. The
 * saga would find out at its own next check of PostgreSQL (workflows/order-saga.ts STORED_CHECK_MS);
 * this raises a SAGA_PAYMENT_MISMATCH alert once per order and tells the saga now.
 */
import type { Client } from '@temporalio/client';
import { PaymentState } from '../domain/payments';
import type { SagaMismatch } from '../domain/reports';
import type { Db } from '../data/db';
import { AlertKind, raiseAlert } from '../data/alerts/stock-alerts';
import { readPayments } from '../data/payments/payments';
import { orderWorkflowId } from '../workflows/ids';
import { OrderStatus } from '../domain/order-saga';
import { backorderSettledSignal } from '../workflows/messages';

const WAITING_ON_GOODS = `WorkflowType = 'orderWorkflow' AND ExecutionStatus = 'Running' AND ReservationStatus = '${OrderStatus.BACKORDERED}'`;

/** How long listing the waiting sagas may take: reconciliation must not hang on Temporal (nor keep a draining worker). */
const LIST_DEADLINE_MS = 5_000;

/**
 * Throws when Temporal cannot list the sagas within LIST_DEADLINE_MS or `signal` aborts (the
 * activity cancelled, the worker draining): the caller reports the check as skipped.
 */
export async function checkSagaPayments(
  db: Db,
  temporal: Client,
  signal: AbortSignal = new AbortController().signal,
): Promise<SagaMismatch[]> {
  const waiting = await temporal.withDeadline(Date.now() + LIST_DEADLINE_MS, () =>
    temporal.withAbortSignal(signal, async () => {
      const ids: string[] = [];
      for await (const saga of temporal.workflow.list({ query: WAITING_ON_GOODS })) ids.push(saga.workflowId);
      return ids;
    }),
  );
  const found: SagaMismatch[] = [];
  for (const workflowId of waiting) {
    const orderId = workflowId.replace(/^order-/, '');
    const payments = await readPayments(db, orderId);
    if (payments.some((p) => p.state === PaymentState.BACKORDERED)) continue;
    const ended = payments.find((p) => p.state === PaymentState.CONFIRMED || p.state === PaymentState.REFUND_REQUIRED);
    if (!ended) continue;
    const mismatch = {
      orderId,
      sagaStatus: OrderStatus.BACKORDERED,
      paymentId: ended.paymentId,
      paymentState: ended.state,
    };
    found.push(mismatch);
    await raiseAlert(db, {
      kind: AlertKind.SAGA_PAYMENT_MISMATCH,
      subject: orderId,
      sku: '-',
      warehouseCode: '-',
      details: mismatch,
    });
    const status = ended.state === PaymentState.CONFIRMED ? 'CONFIRMED' : 'REFUND_REQUIRED';
    // Closed in between: nothing to tell.
    await temporal.workflow
      .getHandle(orderWorkflowId(orderId))
      .signal(backorderSettledSignal, { status })
      .catch(() => undefined);
  }
  return found;
}
