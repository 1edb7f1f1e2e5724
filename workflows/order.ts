/**
 * One order, one workflow: reserve → wait for payment (bounded by the hold's TTL) →
 * confirm, or release on timeout or cancel. Temporal's durable timers and retries are the
 * transaction coordinator: whatever crashes, the saga resumes and closes.
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { ActivityFailure, condition, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { sameOrder } from '../domain/lines';
import type { ReleaseReason } from '../domain/types';
import { metrics, release, reserve, returnGateToken } from './activities-proxy';
import {
  backorderSettledSignal,
  cancelSignal,
  OrderStatus,
  paymentSignal,
  placeOrderUpdate,
  statusQuery,
  type OrderState,
  type OrderWorkflowInput,
  type SettlementOutcome,
} from './messages';
import { ReservationExpiresAtAttr, ReservationStatusAttr } from './search-attributes';
import { confirmOrRefund, settleLatePayment } from './settle';

export async function orderWorkflow({ order, ttlSeconds, gateAdmitted }: OrderWorkflowInput): Promise<OrderState> {
  const state: OrderState = {
    orderId: order.orderId,
    userId: order.userId,
    lines: order.lines,
    allocation: order.allocation,
    status: 'RESERVING',
    extraPayments: [],
  };
  let cancelRequested = false;

  // Handlers first, before any await: the update that came with the start must find them.
  setHandler(statusQuery, () => state);
  setHandler(
    placeOrderUpdate,
    async () => {
      await condition(() => state.reservation !== undefined);
      return state.reservation!;
    },
    {
      validator: (request) => {
        if (!sameOrder(request, order)) throw new Error('ORDER_CONFLICT: this order id was placed with other lines or user');
      },
    },
  );
  setHandler(paymentSignal, (payment) => {
    if (!state.payment) state.payment = payment;
    else if (state.payment.paymentId !== payment.paymentId && !state.extraPayments.some((p) => p.paymentId === payment.paymentId)) {
      state.extraPayments.push(payment);
    }
  });
  setHandler(cancelSignal, () => {
    cancelRequested = true;
  });
  let backorder: 'CONFIRMED' | 'REFUND_REQUIRED' | undefined;
  setHandler(backorderSettledSignal, ({ status }) => {
    backorder ??= status;
  });

  /** A settlement's final status; a pre-order's backorder first waits for its goods. */
  const settled = async (outcome: SettlementOutcome): Promise<OrderStatus> => {
    if (outcome.status !== 'BACKORDERED') return applySettlement(state, outcome);
    setStatus(OrderStatus.BACKORDERED);
    await condition(() => backorder !== undefined);
    if (backorder === 'CONFIRMED') return OrderStatus.CONFIRMED;
    state.refundReason = 'the pre-sale goods received could not cover this order';
    return OrderStatus.REFUND_REQUIRED;
  };
  /**
   * Stable stages are indexed for the Temporal UI; the transient CONFIRMING and RELEASING
   * live only in the query state: their step runs inside one workflow task, so an indexed
   * value would never be seen, and each upsert is a history event and a visibility write.
   * A release that keeps failing shows as AWAITING_PAYMENT past ReservationExpiresAt.
   */
  const setStatus = (status: OrderStatus, extra: SearchAttributeUpdatePair[] = []) => {
    state.status = status;
    if (status === OrderStatus.CONFIRMING || status === OrderStatus.RELEASING) return;
    upsertSearchAttributes([{ key: ReservationStatusAttr, value: status }, ...extra]);
  };
  const finish = async (status: OrderStatus) => {
    // No sale came of a gate-admitted flash order: its token goes back to the gate — unless
    // PostgreSQL found the pool empty, in which case the token was one the gate never had.
    const soldOut = state.reservation?.status === 'rejected' && state.reservation.reason === 'SOLD_OUT';
    if (gateAdmitted && order.campaignId && !soldOut && (status === OrderStatus.REJECTED || status === OrderStatus.RELEASED)) {
      await returnGateToken(order.campaignId, order.userId, order.orderId).catch(() => undefined);
    }
    setStatus(status);
    metrics.sagaEnded(status);
    return state;
  };

  const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
  try {
    state.reservation = await reserve({ ...order, reservationId: order.orderId, expiresAt: expiresAt.toISOString() });
  } catch (err) {
    if (!(err instanceof ActivityFailure)) throw err;
    // The reserve could not be completed in time. It may still have committed, so close the
    // transaction: a release either gives the hold back or fences out a late reserve.
    state.reservation = { status: 'rejected', reason: 'SERVICE_UNAVAILABLE' };
    await release(order.orderId, 'CANCELLED');
    state.releaseReason = 'RESERVE_FAILED';
    return finish(OrderStatus.REJECTED);
  }
  if (state.reservation.status !== 'reserved') return finish(OrderStatus.REJECTED);

  state.expiresAt = state.reservation.expiresAt;
  setStatus(OrderStatus.AWAITING_PAYMENT, [{ key: ReservationExpiresAtAttr, value: new Date(state.reservation.expiresAt) }]);
  const remainingMs = Math.max(0, Date.parse(state.reservation.expiresAt) - Date.now());
  await condition(() => state.payment !== undefined || cancelRequested, remainingMs);

  if (state.payment) {
    setStatus(OrderStatus.CONFIRMING);
    return finish(await settled(await confirmOrRefund(order.orderId, state.payment, false)));
  }

  const reason: ReleaseReason = cancelRequested ? 'CANCELLED' : 'EXPIRED';
  setStatus(OrderStatus.RELEASING);
  state.releasedAt = new Date().toISOString();
  const released = await release(order.orderId, reason);
  if (released.status === 'already_confirmed') return finish(OrderStatus.CONFIRMED);
  state.releaseReason = reason;
  // A payment that landed while we were releasing must still become a sale or a refund.
  if (state.payment) {
    return finish(await settled(await settleLatePayment(order, state.payment, ttlSeconds)));
  }
  return finish(OrderStatus.RELEASED);
}

function applySettlement(state: OrderState, outcome: Exclude<SettlementOutcome, { status: 'BACKORDERED' }>): OrderStatus {
  if (outcome.status === 'CONFIRMED') {
    state.lateConfirmed = outcome.late;
    return OrderStatus.CONFIRMED;
  }
  state.refundReason = outcome.reason;
  return OrderStatus.REFUND_REQUIRED;
}
