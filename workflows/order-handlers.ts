/**
 * The order workflow's message handlers, set up before its first await (the update that
 * comes with the start must find its handler). They only record what arrived; the saga in
 * order-saga.ts acts on it.
 */
import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import { ErrorCode } from '../domain/errors';
import { sameOrder } from '../domain/lines';
import type { BackorderOutcome, OrderState } from '../domain/order-saga';
import type { OrderRequest, Payment } from '../domain/types';
import {
  backorderSettledSignal,
  cancelSignal,
  holdExtendedSignal,
  orderEditedSignal,
  PAYMENT_CANCELED,
  paymentSignal,
  placeOrderUpdate,
  statusQuery,
} from './messages';

/** What the handlers collected: read by the saga. */
export interface OrderInbox {
  /** Every distinct payment reported, in arrival order; redeliveries are dropped. */
  readonly payments: Payment[];
  cancelRequested: boolean;
  /** Why the first cancel came: the shopper or shop (CANCELLED), or the payment provider (PAYMENT_CANCELED). */
  cancelReason?: 'CANCELLED' | 'PAYMENT_CANCELED';
  /** A pre-order's backorder, settled when the goods arrived. */
  backorder?: BackorderOutcome;
  /** The latest expiry an extension of the hold set in PostgreSQL (epoch ms). */
  extendedTo?: number;
}

export function setupOrderHandlers(state: OrderState, order: OrderRequest): OrderInbox {
  const inbox: OrderInbox = { payments: [], cancelRequested: false };
  setHandler(statusQuery, () => state);
  setHandler(
    placeOrderUpdate,
    async () => {
      await condition(() => state.reservation !== undefined);
      return state.reservation!;
    },
    {
      // Refused before it enters history: the caller gets the code as the failure's type.
      validator: (request) => {
        if (!sameOrder(request, order)) {
          throw ApplicationFailure.create({
            type: ErrorCode.ORDER_CONFLICT,
            message: `order ${order.orderId} was placed with other lines or user`,
            nonRetryable: true,
          });
        }
      },
    },
  );
  setHandler(paymentSignal, (payment) => {
    if (!inbox.payments.some((p) => p.paymentId === payment.paymentId)) inbox.payments.push(payment);
  });
  setHandler(cancelSignal, ({ reason }) => {
    inbox.cancelRequested = true;
    inbox.cancelReason ??= reason === PAYMENT_CANCELED ? 'PAYMENT_CANCELED' : 'CANCELLED';
  });
  setHandler(backorderSettledSignal, ({ status }) => {
    inbox.backorder ??= status;
  });
  setHandler(holdExtendedSignal, ({ expiresAt }) => {
    const at = Date.parse(expiresAt);
    if (Number.isFinite(at) && !(at <= (inbox.extendedTo ?? -Infinity))) inbox.extendedTo = at;
  });
  return inbox;
}

/**
 * The order's edits (behind OrderPatch.LEARNS_EDITS): each committed edit the API signals
 * replaces the lines (as ordered and as held) and the amount the saga shows; an edit older
 * than the version it knows (signals may arrive out of order) changes nothing. PostgreSQL stays
 * the authority: the confirm and release steps read the held lines there.
 */
export function learnEdits(state: OrderState): void {
  setHandler(orderEditedSignal, (edit) => {
    if (edit.version <= (state.version ?? 0)) return;
    state.version = edit.version;
    state.lines = edit.lines;
    if (state.reservation?.status === 'reserved') state.reservation = { ...state.reservation, lines: edit.lines };
  });
}
