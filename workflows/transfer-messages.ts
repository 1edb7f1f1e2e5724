/**
 * The transfer workflow's updates and query, with their payloads, defined once so the API
 * and the workflow cannot disagree. Updates answer synchronously with the new state; their
 * validators refuse a step the transfer's state does not allow (TRANSFER_CONFLICT).
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { ConsumedLot } from '../domain/stock';
import type { TransferReceipt, TransferRequest, TransferStage } from '../domain/transfers';
import type { Shortage } from '../domain/types';

/** The stages live with the transfer's state machine (domain/transfers.ts). */
export { TransferStage } from '../domain/transfers';

/** What the transfer workflow knows; the status query and the workflow result. */
export interface TransferState {
  readonly request: TransferRequest;
  stage: TransferStage;
  shortages?: readonly Shortage[];
  shippedLots?: readonly ConsumedLot[];
  /** Receive by this time or the transfer is overdue (alert raised, may be returned). */
  deadlineAt?: string;
  overdue: boolean;
  receipt?: TransferReceipt;
  /** Why the request was refused outright (unknown product or warehouse, ...). */
  error?: { readonly code: string; readonly message: string };
}

/** Sent with the workflow start: resolves once the hold at the source is taken or refused. */
export const requestTransferUpdate = defineUpdate<TransferState, [TransferRequest]>('requestTransfer');
/** The goods left the source. Repeats after shipping answer the state. */
export const shipTransferUpdate = defineUpdate<TransferState>('shipTransfer');
/** The destination counted what arrived; less than shipped books the rest as a loss. */
export const receiveTransferUpdate = defineUpdate<TransferState, [TransferReceipt]>('receiveTransfer');
/** Cancel before shipping: the hold is released. */
export const cancelTransferUpdate = defineUpdate<TransferState>('cancelTransfer');
/** A shipment that never arrived goes back to its source. */
export const returnTransferUpdate = defineUpdate<TransferState>('returnTransfer');
/** Current transfer state. */
export const transferStatusQuery = defineQuery<TransferState>('transferStatus');
