/**
 * Order operations on top of Temporal: one workflow per order, started together with the
 * update that returns the reservation outcome (Update-with-Start), so the API answers
 * synchronously without polling.
 */
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import { DomainError, ErrorCode } from '../../../domain/errors';
import { sameOrder } from '../../../domain/lines';
import type { OrderRequest, ReserveOutcome } from '../../../domain/types';
import { orderWorkflowId } from '../../../workflows/ids';
import { cancelSignal, placeOrderUpdate, statusQuery, type OrderState } from '../../../workflows/messages';
import { OrderIdAttr, OrderSkusAttr, ReservationStatusAttr } from '../../../workflows/search-attributes';
import type { orderWorkflow } from '../../../workflows/order';

/** How long POST /orders waits for the reserve step before answering 503. */
const PLACE_ORDER_DEADLINE_MS = 15_000;

/** How to run one order's saga. */
export interface PlaceOrderOptions {
  readonly taskQueue: string;
  readonly ttlSeconds: number;
  /** A flash-sale order admitted by the gate (its token goes back if no sale results). */
  readonly gateAdmitted?: boolean;
}

export async function placeOrder(temporal: Client, order: OrderRequest, { taskQueue, ttlSeconds, gateAdmitted }: PlaceOrderOptions): Promise<ReserveOutcome> {
  const workflowId = orderWorkflowId(order.orderId);
  const start = new WithStartWorkflowOperation<typeof orderWorkflow>('orderWorkflow', {
    workflowId,
    taskQueue,
    args: [{ order, ttlSeconds, gateAdmitted }],
    workflowIdConflictPolicy: 'USE_EXISTING',
    // An order id is used once: a finished order is answered from its history, never re-run.
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
    typedSearchAttributes: [
      { key: OrderIdAttr, value: order.orderId },
      { key: OrderSkusAttr, value: [...new Set(order.lines.map((l) => l.sku))] },
      { key: ReservationStatusAttr, value: 'RESERVING' },
    ],
  });
  try {
    return await temporal.withDeadline(Date.now() + PLACE_ORDER_DEADLINE_MS, () =>
      temporal.workflow.executeUpdateWithStart(placeOrderUpdate, {
        args: [order],
        startWorkflowOperation: start,
      }),
    );
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return finishedOrderOutcome(temporal, order);
    if (err instanceof WorkflowUpdateFailedError) {
      throw new DomainError(ErrorCode.ORDER_CONFLICT, `order ${order.orderId} exists with other lines or user`);
    }
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError || isDeadline(err)) {
      throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'the reservation is taking too long; retry with the same orderId');
    }
    throw err;
  }
}

function isDeadline(err: unknown): boolean {
  return err instanceof Error && /deadline|DEADLINE_EXCEEDED/i.test(`${err.message} ${(err as { code?: unknown }).code ?? ''}`);
}

/** A repeated POST for an order whose saga has ended: the first answer, from history. */
async function finishedOrderOutcome(temporal: Client, order: OrderRequest): Promise<ReserveOutcome> {
  const state = await getOrder(temporal, order.orderId);
  if (!sameOrder(state, order)) {
    throw new DomainError(ErrorCode.ORDER_CONFLICT, `order ${order.orderId} exists with other lines or user`);
  }
  if (!state.reservation) throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'order state not available yet');
  return state.reservation;
}

export async function getOrder(temporal: Client, orderId: string): Promise<OrderState> {
  try {
    return await temporal.workflow.getHandle(orderWorkflowId(orderId)).query(statusQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new DomainError(ErrorCode.ORDER_NOT_FOUND, `no order ${orderId}`);
    throw err;
  }
}

/** Cancels an order that is still waiting for payment; a paid or ended order cannot be. */
export async function cancelOrder(temporal: Client, orderId: string, reason: string): Promise<OrderState> {
  const state = await getOrder(temporal, orderId);
  if (state.status !== 'AWAITING_PAYMENT' && state.status !== 'RESERVING') {
    throw new DomainError(ErrorCode.NOT_CANCELLABLE, `order ${orderId} is ${state.status}`, { status: state.status });
  }
  try {
    await temporal.workflow.getHandle(orderWorkflowId(orderId)).signal(cancelSignal, { reason });
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) {
      throw new DomainError(ErrorCode.NOT_CANCELLABLE, `order ${orderId} has just ended`);
    }
    throw err;
  }
  return state;
}
