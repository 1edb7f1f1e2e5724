/**
 * Cross-warehouse transfers: request (hold at the source) → ship (leaves the source's
 * on-hand, incoming at the destination) → receive, possibly short (the shortfall is booked as
 * a loss) → done. Cancel before shipping; return to source when never received. Pure: the
 * types, and the state machine the workflow and the API both follow.
 */
import type { ConsumedLot } from './stock';
import type { Shortage } from './types';

/** Stored status of a transfer (CHECK-constrained). */
export const TransferStatus = {
  REQUESTED: 'REQUESTED',
  SHIPPED: 'SHIPPED',
  RECEIVED: 'RECEIVED',
  CANCELLED: 'CANCELLED',
  RETURNED: 'RETURNED',
  REJECTED: 'REJECTED',
} as const;
export type TransferStatus = (typeof TransferStatus)[keyof typeof TransferStatus];

/** What is asked to move; `transferId` is the business serial of every step. */
export interface TransferRequest {
  readonly transferId: string;
  readonly sku: string;
  readonly fromWarehouse: string;
  readonly toWarehouse: string;
  readonly quantity: number;
  /** How long after shipping the destination has to receive it before it is overdue. */
  readonly receiveWithinSeconds: number;
}

/** The hold at the source: a reservation with this id (":" never occurs in order ids). */
export function transferHoldId(transferId: string): string {
  return `transfer:${transferId}`;
}

export type TransferRequestOutcome =
  { readonly status: 'requested' } | { readonly status: 'rejected'; readonly shortages: readonly Shortage[] };

/** Outcome of a step: done (now or before), or refused because the transfer is elsewhere. */
export type TransferStepOutcome =
  | {
      readonly status: 'done';
      readonly transferStatus: TransferStatus;
      readonly lots?: readonly ConsumedLot[];
      readonly deadlineAt?: string;
    }
  | { readonly status: 'refused'; readonly transferStatus: TransferStatus | 'MISSING' };

/** A receipt at the destination; `receivedQuantity` below the shipped quantity books a loss. */
export interface TransferReceipt {
  readonly receivedQuantity: number;
  readonly shortfallReason?: string;
}

/**
 * Stages of a transfer saga (the workflow's state; TransferStatus is what PostgreSQL stores).
 * Each step has a stage it runs in (SHIPPING...), so a concurrent other step is refused while
 * it runs. Terminal: RECEIVED, CANCELLED, RETURNED, REJECTED.
 */
export const TransferStage = {
  REQUESTING: 'REQUESTING',
  REQUESTED: 'REQUESTED',
  SHIPPING: 'SHIPPING',
  SHIPPED: 'SHIPPED',
  RECEIVING: 'RECEIVING',
  RECEIVED: 'RECEIVED',
  CANCELLING: 'CANCELLING',
  CANCELLED: 'CANCELLED',
  RETURNING: 'RETURNING',
  RETURNED: 'RETURNED',
  REJECTED: 'REJECTED',
} as const;
export type TransferStage = (typeof TransferStage)[keyof typeof TransferStage];

const S = TransferStage;

/** Shipped, and anything that can follow a shipment: the goods have left the source. */
export const SHIPPED_OR_LATER: readonly TransferStage[] = [S.SHIPPED, S.RECEIVING, S.RECEIVED, S.RETURNING, S.RETURNED];

/** Stages that wait for a person (ship or cancel) or for a step in progress. */
export const UNDECIDED: readonly TransferStage[] = [S.REQUESTED, S.SHIPPING, S.CANCELLING];

/** The steps a person takes on a transfer (each an update of its workflow and a route). */
export type TransferStep = 'ship' | 'receive' | 'cancel' | 'return';

/**
 * The transfer state machine, written once for the workflow and the API: a step is allowed
 * from one stage, runs in another, and is done once the transfer is in any of `after`.
 */
export const transferSteps: Readonly<
  Record<
    TransferStep,
    { readonly from: TransferStage; readonly during: TransferStage; readonly after: readonly TransferStage[] }
  >
> = {
  ship: { from: S.REQUESTED, during: S.SHIPPING, after: SHIPPED_OR_LATER },
  receive: { from: S.SHIPPED, during: S.RECEIVING, after: [S.RECEIVED] },
  cancel: { from: S.REQUESTED, during: S.CANCELLING, after: [S.CANCELLED] },
  return: { from: S.SHIPPED, during: S.RETURNING, after: [S.RETURNED] },
};

/**
 * What asking for `step` means at `stage`: run it; answer the state (a repeat of the step
 * in progress, or of the step done with the same arguments: `sameAsDone`); or refuse it
 * (TRANSFER_CONFLICT).
 */
/**
 * Whether a transfer whose workflow has ended, in `stage`, answers `step` with its state (the
 * step was done, with the same arguments: `sameAsDone`); otherwise the request is a conflict.
 */
export function endedTransferAnswersRepeat(step: TransferStep, stage: TransferStage, sameAsDone = true): boolean {
  // A stage of a step in progress is final only for a workflow that was terminated mid-step:
  // that step will never complete, so asking for it again is a conflict, not a repeat.
  return !IN_PROGRESS.has(stage) && transferStepVerdict(step, stage, sameAsDone) === 'repeat';
}

const IN_PROGRESS: ReadonlySet<TransferStage> = new Set(Object.values(transferSteps).map((s) => s.during));

export function transferStepVerdict(
  step: TransferStep,
  stage: TransferStage,
  sameAsDone = true,
): 'run' | 'repeat' | 'conflict' {
  const s = transferSteps[step];
  if (stage === s.from) return 'run';
  if (stage === s.during || (s.after.includes(stage) && sameAsDone)) return 'repeat';
  return 'conflict';
}
