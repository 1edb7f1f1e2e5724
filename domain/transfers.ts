/**
 * Cross-warehouse transfers: request (hold at the source) → ship (leaves the source's
 * on-hand, incoming at the destination) → receive, possibly short (the shortfall is booked as
 * a loss) → done. Cancel before shipping; return to source when never received. Pure types.
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
  | { readonly status: 'requested' }
  | { readonly status: 'rejected'; readonly shortages: readonly Shortage[] };

/** Outcome of a step: done (now or before), or refused because the transfer is elsewhere. */
export type TransferStepOutcome =
  | { readonly status: 'done'; readonly transferStatus: TransferStatus; readonly lots?: readonly ConsumedLot[]; readonly deadlineAt?: string }
  | { readonly status: 'refused'; readonly transferStatus: TransferStatus | 'MISSING' };

/** A receipt at the destination; `receivedQuantity` below the shipped quantity books a loss. */
export interface TransferReceipt {
  readonly receivedQuantity: number;
  readonly shortfallReason?: string;
}
