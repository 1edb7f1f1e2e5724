/**
 * Transfer operations on top of Temporal: one workflow per transfer (`transfer-<id>`), every
 * step an update answered with the new state. Repeating a step that is already done answers
 * the state (also once the workflow has ended); a step the state does not allow is
 * TRANSFER_CONFLICT.
 */
import {
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DomainError, ErrorCode, isErrorCode } from '../domain/errors';
import {
  endedTransferAnswersRepeat,
  type TransferReceipt,
  type TransferRequest,
  type TransferStep,
} from '../domain/transfers';
import { transferWorkflowId } from '../workflows/ids';
import {
  cancelTransferUpdate,
  receiveTransferUpdate,
  requestTransferUpdate,
  returnTransferUpdate,
  shipTransferUpdate,
  transferStatusQuery,
  type TransferState,
} from '../workflows/transfer-messages';
import type { transferWorkflow } from '../workflows/transfer';

export async function createTransfer(
  temporal: Client,
  taskQueue: string,
  request: TransferRequest,
): Promise<TransferState> {
  const start = new WithStartWorkflowOperation<typeof transferWorkflow>('transferWorkflow', {
    workflowId: transferWorkflowId(request.transferId),
    taskQueue,
    args: [request],
    workflowIdConflictPolicy: 'USE_EXISTING',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
  });
  try {
    return await temporal.workflow.executeUpdateWithStart(requestTransferUpdate, {
      args: [request],
      startWorkflowOperation: start,
    });
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) {
      const state = await getTransfer(temporal, request.transferId);
      const r = state.request;
      if (
        r.sku !== request.sku ||
        r.fromWarehouse !== request.fromWarehouse ||
        r.toWarehouse !== request.toWarehouse ||
        r.quantity !== request.quantity
      ) {
        throw new DomainError(ErrorCode.TRANSFER_CONFLICT, `transfer ${request.transferId} exists with other content`);
      }
      return state;
    }
    throw asDomainError(err);
  }
}

export async function getTransfer(temporal: Client, transferId: string): Promise<TransferState> {
  try {
    return await temporal.workflow.getHandle(transferWorkflowId(transferId)).query(transferStatusQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new DomainError(ErrorCode.TRANSFER_NOT_FOUND, `no transfer ${transferId}`);
    throw err;
  }
}

/** The workflow update of each step; which stage allows which step is domain/transfers.ts. */
const updates = {
  ship: shipTransferUpdate,
  receive: receiveTransferUpdate,
  cancel: cancelTransferUpdate,
  return: returnTransferUpdate,
} as const;
export type { TransferStep } from '../domain/transfers';

export async function runTransferStep(
  temporal: Client,
  transferId: string,
  step: TransferStep,
  receipt?: TransferReceipt,
): Promise<TransferState> {
  const handle = temporal.workflow.getHandle(transferWorkflowId(transferId));
  try {
    if (step === 'receive') return await handle.executeUpdate(updates.receive, { args: [receipt!] });
    return await handle.executeUpdate(updates[step]);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw asDomainError(err);
    // Not running: unknown, or ended. An ended transfer answers a repeat of a done step.
    const state = await getTransfer(temporal, transferId);
    const sameReceipt = step !== 'receive' || state.receipt?.receivedQuantity === receipt?.receivedQuantity;
    if (endedTransferAnswersRepeat(step, state.stage, sameReceipt)) return state;
    throw new DomainError(ErrorCode.TRANSFER_CONFLICT, `cannot ${step} a transfer that is ${state.stage}`, {
      stage: state.stage,
    });
  }
}

/** An update the workflow refused (validator or a step failed for good) → its domain code. */
function asDomainError(err: unknown): unknown {
  if (
    err instanceof WorkflowUpdateFailedError &&
    err.cause instanceof ApplicationFailure &&
    isErrorCode(err.cause.type)
  ) {
    return new DomainError(err.cause.type, err.cause.message, err.cause.details?.[0]);
  }
  return err;
}
