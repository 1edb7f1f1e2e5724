/**
 * One transfer, one workflow (id `transfer-<transferId>`): request (hold at the source) →
 * ship → receive, or cancel before shipping; a shipment not received by its deadline raises
 * an overdue alert and may be returned to its source. Every step is an update answered with
 * the new state; the activities are fenced, so retries and repeated requests change nothing.
 */
import type { UpdateDefinition } from '@temporalio/common';
import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  patched,
  setHandler,
} from '@temporalio/workflow';
import { ErrorCode } from '../domain/errors';
import {
  SHIPPED_OR_LATER,
  transferSteps,
  transferStepVerdict,
  UNDECIDED,
  type TransferRequest,
  type TransferStep,
  type TransferStepOutcome,
} from '../domain/transfers';
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

/**
 * Patch ids of this workflow (CONTRIBUTING.md "Changing workflow code"): each guards a change to its
 * command sequence, so runs recorded before the change still replay.
 */
export const TransferPatch = {
  /** A step whose activity failed for good goes back to the stage it started from. */
  FAILED_STEP_REOPENS: 'transfer-failed-step-reopens',
} as const;

const conflict = (message: string) =>
  ApplicationFailure.create({ type: ErrorCode.TRANSFER_CONFLICT, message, nonRetryable: true });

const S = TransferStage;

export async function transferWorkflow(request: TransferRequest): Promise<TransferState> {
  const state: TransferState = { request, stage: S.REQUESTING, overdue: false };
  registerHandlers(state);
  try {
    const requested = await requestTransfer(request);
    if (requested.status === 'rejected') state.shortages = requested.shortages;
    state.stage = requested.status === 'requested' ? S.REQUESTED : S.REJECTED;
  } catch (err) {
    // Refused outright (unknown product or warehouse): the caller gets the code.
    if (!(err instanceof ActivityFailure && err.cause instanceof ApplicationFailure)) throw err;
    state.error = { code: err.cause.type ?? ErrorCode.INTERNAL, message: err.cause.message };
    state.stage = S.REJECTED;
  }
  await condition(() => !UNDECIDED.includes(state.stage));
  // Shipped: wait for the receipt (or a return) until the deadline, then raise the alarm once
  // and keep waiting: the goods are somewhere, and only a person can say where.
  if (SHIPPED_OR_LATER.includes(state.stage)) {
    const finished = () => state.stage === S.RECEIVED || state.stage === S.RETURNED;
    if (!(await condition(finished, Math.max(1, Date.parse(state.deadlineAt!) - Date.now())))) {
      state.overdue = true;
      await raiseTransferOverdue(request.transferId);
      await condition(finished);
    }
  }
  await condition(allHandlersFinished);
  return state;
}

/** The query, the request update (answered once the hold is decided) and the four steps. */
function registerHandlers(state: TransferState): void {
  const { request } = state;
  const id = request.transferId;
  setHandler(transferStatusQuery, () => state);
  setHandler(
    requestTransferUpdate,
    async () => {
      await condition(() => state.stage !== S.REQUESTING);
      return state;
    },
    {
      validator: (r) => {
        const same =
          r.sku === request.sku &&
          r.fromWarehouse === request.fromWarehouse &&
          r.toWarehouse === request.toWarehouse &&
          r.quantity === request.quantity;
        if (!same) throw conflict(`transfer ${id} exists with other content`);
      },
    },
  );
  const deadline = () => new Date(Date.now() + request.receiveWithinSeconds * 1000).toISOString();
  registerStep(state, shipTransferUpdate, 'ship', () => shipTransfer(id, deadline()));
  registerStep(
    state,
    receiveTransferUpdate,
    'receive',
    (receipt) => {
      state.receipt = receipt;
      return receiveTransfer(id, receipt);
    },
    (receipt) => receipt.receivedQuantity === state.receipt?.receivedQuantity,
  );
  registerStep(state, cancelTransferUpdate, 'cancel', () => cancelTransfer(id));
  registerStep(state, returnTransferUpdate, 'return', () => returnTransfer(id));
}

/**
 * Registers a step's update: the first call runs it (the stage moves to `during` before the
 * activity, so a concurrent different step is refused by its validator); a repeat waits for
 * it and answers the state; anything the stage does not allow is TRANSFER_CONFLICT.
 * (`unknown[]` meets the SDK's `any[]` constraint on update arguments.)
 */
function registerStep<A extends unknown[]>(
  state: TransferState,
  def: UpdateDefinition<TransferState, A>,
  name: TransferStep,
  run: (...args: A) => Promise<TransferStepOutcome>,
  sameAsDone?: (...args: A) => boolean,
): void {
  const step = transferSteps[name];
  const handler = async (...args: A) => {
    if (state.stage === step.from) {
      state.stage = step.during;
      const receipt = state.receipt;
      const outcome = await run(...args).catch((err: unknown) => {
        // Refused for good (bad input, a rule of the data): nothing changed, so the transfer
        // is where it was and the documented next steps (a valid receive, a return) still
        // work. The caller gets the activity's code. Older runs kept the stage (and hung).
        if (
          !patched(TransferPatch.FAILED_STEP_REOPENS) ||
          !(err instanceof ActivityFailure && err.cause instanceof ApplicationFailure)
        )
          throw err;
        state.stage = step.from;
        state.receipt = receipt;
        throw ApplicationFailure.create({
          type: err.cause.type ?? ErrorCode.INTERNAL,
          message: err.cause.message,
          nonRetryable: true,
          details: [...(err.cause.details ?? [])],
        });
      });
      state.stage = outcome.transferStatus === 'MISSING' ? S.REJECTED : outcome.transferStatus;
      if (outcome.status === 'done' && outcome.lots) state.shippedLots = outcome.lots;
      if (outcome.status === 'done' && outcome.deadlineAt) state.deadlineAt = outcome.deadlineAt;
    }
    await condition(() => state.stage !== step.during);
    return state;
  };
  const validator = (...args: A) => {
    // sameAsDone only matters once the step is done: not evaluated otherwise, as before.
    const verdict = transferStepVerdict(
      name,
      state.stage,
      !step.after.includes(state.stage) || (sameAsDone?.(...args) ?? true),
    );
    if (verdict === 'conflict') throw conflict(`cannot ${name} a transfer that is ${state.stage}`);
  };
  setHandler(def, handler, { validator });
}
