/**
 * One order, one workflow: reserve → wait for payment (bounded by the hold's TTL) →
 * confirm, or release on timeout or cancel. Temporal's durable timers and retries are the
 * transaction coordinator: whatever crashes, the saga resumes and closes.
 */
import { ActivityFailure, condition, setHandler, upsertSearchAttributes } from '@temporalio/workflow';
import { sameOrder } from '../domain/lines';
import type { ReleaseReason } from '../domain/types';
import { metrics, release, reserve } from './activities-proxy';
import {
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

export async function orderWorkflow({ order, ttlSeconds }: OrderWorkflowInput): Promise<OrderState> {
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

  const setStatus = (status: OrderStatus) => {
    state.status = status;
    upsertSearchAttributes([{ key: ReservationStatusAttr, value: status }]);
  };
  const finish = (status: OrderStatus) => {
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
  upsertSearchAttributes([{ key: ReservationExpiresAtAttr, value: new Date(state.reservation.expiresAt) }]);
  setStatus(OrderStatus.AWAITING_PAYMENT);
  const remainingMs = Math.max(0, Date.parse(state.reservation.expiresAt) - Date.now());
  await condition(() => state.payment !== undefined || cancelRequested, remainingMs);

  if (state.payment) {
    setStatus(OrderStatus.CONFIRMING);
    return finish(applySettlement(state, await confirmOrRefund(order.orderId, state.payment, false)));
  }

  const reason: ReleaseReason = cancelRequested ? 'CANCELLED' : 'EXPIRED';
  setStatus(OrderStatus.RELEASING);
  state.releasedAt = new Date().toISOString();
  const released = await release(order.orderId, reason);
  if (released.status === 'already_confirmed') return finish(OrderStatus.CONFIRMED);
  state.releaseReason = reason;
  // A payment that landed while we were releasing must still become a sale or a refund.
  if (state.payment) {
    return finish(applySettlement(state, await settleLatePayment(order, state.payment, ttlSeconds)));
  }
  return finish(OrderStatus.RELEASED);
}

function applySettlement(state: OrderState, outcome: SettlementOutcome): OrderStatus {
  if (outcome.status === 'CONFIRMED') {
    state.lateConfirmed = outcome.late;
    return OrderStatus.CONFIRMED;
  }
  state.refundReason = outcome.reason;
  return OrderStatus.REFUND_REQUIRED;
}
