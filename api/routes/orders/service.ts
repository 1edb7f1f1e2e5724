/**
 * Reading and cancelling orders: the saga answers while it runs; PostgreSQL answers for an
 * order with no saga in Temporal (not started yet, refused on the request path, or deleted by
 * retention). Placing an order is the request path (hold.ts).
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Db } from '../../../data/stock/db';
import { orderFromDatabase } from '../../../data/stock/order-view';
import { DomainError, ErrorCode } from '../../../domain/errors';
import { signalOrderSaga } from '../../../platform/sagas';
import { orderWorkflowId } from '../../../workflows/ids';
import { cancelSignal, statusQuery, type OrderState } from '../../../workflows/messages';

/** The saga's state; from PostgreSQL when Temporal has no saga for the order (not started yet, refused, or deleted by retention). */
export async function getOrder(temporal: Client, db: Db, orderId: string): Promise<OrderState> {
  try {
    return await temporal.workflow.getHandle(orderWorkflowId(orderId)).query(statusQuery);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
  const state = await orderFromDatabase(db, orderId);
  if (!state) throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `no order ${orderId}`);
  return state;
}

/** Cancels an order that is still waiting for payment; a paid or ended order cannot be. */
export async function cancelOrder(temporal: Client, db: Db, taskQueue: string, orderId: string, reason: string): Promise<OrderState> {
  const state = await getOrder(temporal, db, orderId);
  if (state.status !== 'AWAITING_PAYMENT' && state.status !== 'RESERVING') {
    throw new DomainError(ErrorCode.NOT_CANCELLABLE, `order ${orderId} is ${state.status}`, { status: state.status });
  }
  // A saga whose start is still on its way is started with the cancel.
  if ((await signalOrderSaga(temporal, db, taskQueue, orderId, cancelSignal, [{ reason }])) === 'ended') {
    throw new DomainError(ErrorCode.NOT_CANCELLABLE, `order ${orderId} has just ended`);
  }
  return state;
}
