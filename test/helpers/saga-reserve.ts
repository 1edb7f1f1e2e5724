/**
 * An order whose saga reserves by itself (no request-path hold): the workflow is started
 * together with its `placeOrder` update (Update-with-Start) and the update answers once the
 * saga's own reserve step has an outcome. The API always holds on the request path; this is
 * how the workflow's own reserve (with its deadline and compensation) is driven in tests.
 */
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
  type Client,
} from '@temporalio/client';
import type { OrderRequest, ReserveOutcome } from '../../domain/types';
import { orderWorkflowId } from '../../workflows/ids';
import { placeOrderUpdate, statusQuery } from '../../workflows/messages';
import type { orderWorkflow } from '../../workflows/order';
import { sagaStartOptions } from '../../use-cases/order-sagas';

export interface PlaceOrderOptions {
  readonly taskQueue: string;
  readonly ttlSeconds: number;
  readonly reserveDeadlineSeconds?: number;
  /** How long to wait for the outcome before giving up (the saga goes on). */
  readonly answerDeadlineMs?: number;
}

export async function placeOrder(
  temporal: Client,
  order: OrderRequest,
  options: PlaceOrderOptions,
): Promise<ReserveOutcome> {
  const input = { order, ttlSeconds: options.ttlSeconds, reserveDeadlineSeconds: options.reserveDeadlineSeconds };
  const start = new WithStartWorkflowOperation<typeof orderWorkflow>('orderWorkflow', {
    ...sagaStartOptions(options.taskQueue, input),
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
  try {
    return await temporal.withDeadline(Date.now() + (options.answerDeadlineMs ?? 15_000), () =>
      temporal.workflow.executeUpdateWithStart(placeOrderUpdate, { args: [order], startWorkflowOperation: start }),
    );
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      const state = await temporal.workflow.getHandle(orderWorkflowId(order.orderId)).query(statusQuery);
      return state.reservation!;
    }
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError) throw new Error('SERVICE_UNAVAILABLE: no outcome yet');
    throw err;
  }
}
