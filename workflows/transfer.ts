/**
 * One transfer, one workflow (id `transfer-<transferId>`): request (hold at the source) →
 * ship → receive, or cancel before shipping; a shipment not received by its deadline raises
 * an overdue alert and may be returned to its source. Every step is an update answered with
 * the new state; the activities are fenced, so retries and repeated requests change nothing.
 */
import type { UpdateDefinition } from '@temporalio/common';
import { ActivityFailure, ApplicationFailure, allHandlersFinished, condition, setHandler } from '@temporalio/workflow';
import { ErrorCode } from '../domain/errors';
import type { TransferStepOutcome } from '../domain/transfers';
import {
  cancelTransfer,
  raiseTransferOverdue,
  receiveTransfer,
  requestTransfer,
  returnTransfer,
  shipTransfer,
} from './activities-proxy';
import {
  cancelTransferUpdate,
  receiveTransferUpdate,
  requestTransferUpdate,
  returnTransferUpdate,
  shipTransferUpdate,
  TransferStage,
  transferStatusQuery,
  type TransferState,
} from './transfer-messages';
import type { TransferRequest } from '../domain/transfers';

const conflict = (message: string) => ApplicationFailure.create({ type: ErrorCode.TRANSFER_CONFLICT, message, nonRetryable: true });

/** A step: allowed from one stage, runs in another, and is a no-op once its result is in. */
interface Step {
  readonly name: string;
  readonly from: TransferStage;
  readonly during: TransferStage;
  readonly after: readonly TransferStage[];
}

export async function transferWorkflow(request: TransferRequest): Promise<TransferState> {
  const state: TransferState = { request, stage: TransferStage.REQUESTING, overdue: false };
  const finished = () => state.stage === TransferStage.RECEIVED || state.stage === TransferStage.RETURNED;

  /** Runs the step once; a repeat waits for it and answers the state; anything else is refused. */
  const register = <A extends any[]>(def: UpdateDefinition<TransferState, A>, step: Step, run: (...args: A) => Promise<TransferStepOutcome>, sameAsDone?: (...args: A) => boolean) => {
    const handler = async (...args: A) => {
      if (state.stage === step.from) {
        state.stage = step.during;
        const outcome = await run(...args);
        state.stage = outcome.transferStatus === 'MISSING' ? TransferStage.REJECTED : outcome.transferStatus;
        if (outcome.status === 'done' && outcome.lots) state.shippedLots = outcome.lots;
        if (outcome.status === 'done' && outcome.deadlineAt) state.deadlineAt = outcome.deadlineAt;
      }
      await condition(() => state.stage !== step.during);
      return state;
    };
    const validator = (...args: A) => {
      const repeat = state.stage === step.during || (step.after.includes(state.stage) && (sameAsDone?.(...args) ?? true));
      if (state.stage !== step.from && !repeat) throw conflict(`cannot ${step.name} a transfer that is ${state.stage}`);
    };
    setHandler(def, handler, { validator });
  };

  setHandler(transferStatusQuery, () => state);
  setHandler(requestTransferUpdate, async () => {
    await condition(() => state.stage !== TransferStage.REQUESTING);
    return state;
  }, {
    validator: (r) => {
      const same = r.sku === request.sku && r.fromWarehouse === request.fromWarehouse && r.toWarehouse === request.toWarehouse && r.quantity === request.quantity;
      if (!same) throw conflict(`transfer ${request.transferId} exists with other content`);
    },
  });
  const shippedOrLater: TransferStage[] = [TransferStage.SHIPPED, TransferStage.RECEIVING, TransferStage.RECEIVED, TransferStage.RETURNING, TransferStage.RETURNED];
  register(shipTransferUpdate, { name: 'ship', from: TransferStage.REQUESTED, during: TransferStage.SHIPPING, after: shippedOrLater }, () =>
    shipTransfer(request.transferId, new Date(Date.now() + request.receiveWithinSeconds * 1000).toISOString()),
  );
  register(
    receiveTransferUpdate,
    { name: 'receive', from: TransferStage.SHIPPED, during: TransferStage.RECEIVING, after: [TransferStage.RECEIVED] },
    async (receipt) => {
      state.receipt = receipt;
      return receiveTransfer(request.transferId, receipt);
    },
    (receipt) => receipt.receivedQuantity === state.receipt?.receivedQuantity,
  );
  register(cancelTransferUpdate, { name: 'cancel', from: TransferStage.REQUESTED, during: TransferStage.CANCELLING, after: [TransferStage.CANCELLED] }, () =>
    cancelTransfer(request.transferId),
  );
  register(returnTransferUpdate, { name: 'return', from: TransferStage.SHIPPED, during: TransferStage.RETURNING, after: [TransferStage.RETURNED] }, () =>
    returnTransfer(request.transferId),
  );

  try {
    const requested = await requestTransfer(request);
    if (requested.status === 'rejected') state.shortages = requested.shortages;
    state.stage = requested.status === 'requested' ? TransferStage.REQUESTED : TransferStage.REJECTED;
  } catch (err) {
    if (!(err instanceof ActivityFailure && err.cause instanceof ApplicationFailure)) throw err;
    state.error = { code: err.cause.type ?? ErrorCode.INTERNAL, message: err.cause.message };
    state.stage = TransferStage.REJECTED;
  }
  const undecided: TransferStage[] = [TransferStage.REQUESTED, TransferStage.SHIPPING, TransferStage.CANCELLING];
  await condition(() => !undecided.includes(state.stage));
  // Shipped: wait for the receipt (or a return) until the deadline, then raise the alarm.
  if (shippedOrLater.includes(state.stage)) {
    const untilDeadline = Math.max(1, Date.parse(state.deadlineAt!) - Date.now());
    if (!(await condition(finished, untilDeadline))) {
      state.overdue = true;
      await raiseTransferOverdue(request.transferId);
      await condition(finished);
    }
  }
  await condition(allHandlersFinished);
  return state;
}
