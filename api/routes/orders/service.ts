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
import type { Config } from '../../../config';
import { DomainError, ErrorCode } from '../../../domain/errors';
import { sameOrder } from '../../../domain/lines';
import type { OrderRequest, ReserveOutcome } from '../../../domain/types';
import { orderWorkflowId } from '../../../workflows/ids';
import { cancelSignal, placeOrderUpdate, statusQuery, type OrderState } from '../../../workflows/messages';
import { OrderIdAttr, OrderSkusAttr, ReservationStatusAttr } from '../../../workflows/search-attributes';
import type { orderWorkflow } from '../../../workflows/order';

/** The saga settings of the config, as every route that places orders passes them. */
export function sagaOptions(config: Config): Omit<PlaceOrderOptions, 'gateAdmitted'> {
  return {
    taskQueue: config.temporal.taskQueue,
    ttlSeconds: config.reservationTtlSeconds,
    reserveDeadlineSeconds: config.reserveDeadlineSeconds,
    answerDeadlineSeconds: config.orderAnswerDeadlineSeconds,
  };
}

/** How to run one order's saga. */
export interface PlaceOrderOptions {
  readonly taskQueue: string;
  readonly ttlSeconds: number;
  /** How long the saga's reserve may take before it gives up and compensates (default 120). */
  readonly reserveDeadlineSeconds?: number;
  /**
   * How long to wait for the reserve outcome. Past it the answer is 503: the outcome is not
   * known yet and the order may come to hold stock; the same orderId again gets the outcome.
   * Default 15.
   */
  readonly answerDeadlineSeconds?: number;
  /** A flash-sale order admitted by the gate (its token goes back if no sale results). */
  readonly gateAdmitted?: boolean;
}

export async function placeOrder(temporal: Client, order: OrderRequest, options: PlaceOrderOptions): Promise<ReserveOutcome> {
  const { taskQueue, ttlSeconds, gateAdmitted, reserveDeadlineSeconds, answerDeadlineSeconds = 15 } = options;
  const workflowId = orderWorkflowId(order.orderId);
  const start = new WithStartWorkflowOperation<typeof orderWorkflow>('orderWorkflow', {
    workflowId,
    taskQueue,
    args: [{ order, ttlSeconds, gateAdmitted, reserveDeadlineSeconds }],
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
    return await temporal.withDeadline(Date.now() + answerDeadlineSeconds * 1000, () =>
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
      throw new DomainError(
        ErrorCode.SERVICE_UNAVAILABLE,
        'the reservation outcome is not known yet (stock may be held); retry with the same orderId to get it',
      );
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
