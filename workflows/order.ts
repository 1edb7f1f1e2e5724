/**
 * One order, one workflow: reserve → wait for payment (bounded by the hold's TTL) →
 * confirm, or release on timeout or cancel. Temporal's durable timers and retries are the
 * transaction coordinator: whatever crashes, the saga resumes and closes.
 *
 * Every payment the saga hears of is settled before it ends, wherever in the saga it arrived
 * (while reserving, awaiting, releasing, giving a gate token back, or after a refusal): the
 * last thing the workflow does before returning is to check, without awaiting anything, that
 * no payment is left unsettled.
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { ActivityFailure, CancellationScope, condition, isCancellation, patched, upsertSearchAttributes } from '@temporalio/workflow';
import { PaymentState, refundStates, type Settlement, type StoredPayment } from '../domain/payments';
import type { Payment, ReleaseOutcome, ReleaseReason, ReserveOutcome } from '../domain/types';
import { metrics, readOrderPayments, release, reserve, returnGateToken } from './activities-proxy';
import { OrderStatus, type OrderState, type OrderWorkflowInput } from './messages';
import { setupOrderHandlers } from './order-handlers';
import { ReservationExpiresAtAttr, ReservationStatusAttr } from './search-attributes';
import { settleOrderPayment } from './settle';

/**
 * Patch ids of this workflow (CONTRIBUTING.md "Changing workflow code"): each guards a change to its
 * command sequence, so runs recorded before the change still replay.
 */
export const OrderPatch = {
  /** A cancel that arrived before a payment was settled wins: the hold is released, the payment refunded. */
  CANCEL_WINS: 'order-cancel-wins',
  /**
   * No zero-length wait when there is nothing to wait for (the hold already expired, or a
   * payment or cancel is in hand). Before it, the wait was always issued with
   * `max(0, time left)`, which records a timer even at 0: those runs replay the old way.
   */
  SKIP_IDLE_WAIT: 'order-skip-idle-wait',
  /**
   * The saga reads its order's payments in PostgreSQL (where every payment is stored before
   * any signal is sent) at each decision a lost or late signal could get wrong: before it
   * decides the hold EXPIRED (a payment received before `expiresAt` is on time), every
   * STORED_CHECK_MS while it waits, and before it ends (none of its payments left PENDING).
   */
  READ_STORED_PAYMENTS: 'order-read-stored-payments',
} as const;

/**
 * How often a waiting saga (AWAITING_PAYMENT, BACKORDERED) checks PostgreSQL for what a lost
 * signal would have told it. A check is a timer and a local read: cheap, but history.
 */
export const STORED_CHECK_MS = 10 * 60_000;

/** Default for inputs that do not say: the documented 2 minutes (RESERVE_DEADLINE_SECONDS). */
const DEFAULT_RESERVE_DEADLINE_SECONDS = 120;

export async function orderWorkflow(input: OrderWorkflowInput): Promise<OrderState> {
  const { order, ttlSeconds, gateAdmitted } = input;
  const state: OrderState = {
    orderId: order.orderId,
    userId: order.userId,
    lines: order.lines,
    allocation: order.allocation,
    status: 'RESERVING',
    extraPayments: [],
    payments: [],
  };
  // Handlers first, before any await: the update that came with the start must find them.
  const inbox = setupOrderHandlers(state, order);
  const settlements = new Map<string, Settlement>();
  const unsettled = (): Payment[] => inbox.payments.filter((p) => !settlements.has(p.paymentId));
  const sold = () => [...settlements.values()].some((s) => s.state === PaymentState.CONFIRMED || s.state === PaymentState.BACKORDERED);

  /**
   * Stable stages are indexed for the Temporal UI; the transient CONFIRMING and RELEASING
   * live only in the query state: their step runs inside one workflow task, so an indexed
   * value would never be seen, and each upsert is a history event and a visibility write.
   */
  const setStatus = (status: OrderStatus, extra: SearchAttributeUpdatePair[] = []) => {
    if (status === state.status && extra.length === 0) return;
    state.status = status;
    if (status === OrderStatus.CONFIRMING || status === OrderStatus.RELEASING) return;
    upsertSearchAttributes([{ key: ReservationStatusAttr, value: status }, ...extra]);
  };

  /** Settles every payment received so far, one at a time, until none is left. */
  const drain = async () => {
    for (let next = unsettled()[0]; next; next = unsettled()[0]) {
      const refused = state.reservation?.status === 'rejected' ? state.reservation.reason : undefined;
      const s = await settleOrderPayment(order, next, { ttlSeconds, refusedBecause: refused, cancelled: state.releaseReason === 'CANCELLED' });
      settlements.set(next.paymentId, s);
      state.payments.push({ paymentId: next.paymentId, amountCents: next.amountCents, state: s.state, ...(s.reason ? { reason: s.reason } : {}) });
      if (s.state === PaymentState.CONFIRMED || s.state === PaymentState.BACKORDERED) state.payment ??= next;
      else state.extraPayments.push({ paymentId: next.paymentId, amountCents: next.amountCents });
      if (s.state === PaymentState.CONFIRMED && s.reservationId !== order.orderId) state.lateConfirmed = true;
    }
  };

  /**
   * Takes the order's PENDING payments stored in PostgreSQL that no signal brought (yet) into
   * the inbox; `onTime` narrows them (those received before the hold expired). Returns how many.
   */
  const adoptStored = (stored: readonly StoredPayment[], onTime: (p: StoredPayment) => boolean = () => true): number => {
    const known = (id: string) => settlements.has(id) || inbox.payments.some((p) => p.paymentId === id);
    const fresh = stored.filter((p) => p.state === PaymentState.PENDING && !known(p.paymentId) && onTime(p));
    for (const { eventId, paymentId, amountCents } of fresh) inbox.payments.push({ eventId, paymentId, amountCents });
    return fresh.length;
  };

  /**
   * Settles every payment received so far, then every payment PostgreSQL holds for the order,
   * until a read finds none left. Signals are not enough at the end: one that lands in the
   * same activation as the last step's result may be handled after the workflow returned
   * (a captured history: the payment stayed PENDING), while PostgreSQL has the payment
   * before any signal is sent. A completion Temporal rejects for a new signal is retried with
   * this read run again, since its result was part of the rejected completion.
   */
  const settleAll = async () => {
    await drain();
    if (!patched(OrderPatch.READ_STORED_PAYMENTS)) return;
    while (adoptStored(await readOrderPayments(order.orderId)) > 0) await drain();
  };

  /** BACKORDERED until the goods arrive: the fulfilment's signal, or PostgreSQL's word if the signal was lost. */
  const waitForBackorder = async () => {
    const woken = () => inbox.backorder !== undefined || unsettled().length > 0;
    if (!patched(OrderPatch.READ_STORED_PAYMENTS)) return void (await condition(woken));
    while (!(await condition(woken, STORED_CHECK_MS))) {
      const stored = await readOrderPayments(order.orderId);
      const ended = stored.find((p) => settlements.get(p.paymentId)?.state === PaymentState.BACKORDERED && p.state !== PaymentState.BACKORDERED);
      if (ended?.state === PaymentState.CONFIRMED || ended?.state === PaymentState.REFUND_REQUIRED) inbox.backorder ??= ended.state;
      adoptStored(stored);
    }
  };

  /** Ends the saga: every payment settled, the gate token back if no sale came of it. */
  const finish = async (base: OrderStatus): Promise<OrderState> => {
    await settleAll();
    const soldOut = state.reservation?.status === 'rejected' && state.reservation.reason === 'SOLD_OUT';
    if (gateAdmitted && order.campaignId && !soldOut && !sold()) {
      // The gate only admits; a give-back that keeps failing is corrected by the gate's sync.
      await returnGateToken(order.campaignId, order.userId, order.orderId).catch(() => undefined);
    }
    // A paid pre-order waits for its goods; payments that land meanwhile are settled too.
    for (;;) {
      await settleAll();
      const waiting = [...settlements.values()].some((s) => s.state === PaymentState.BACKORDERED) && inbox.backorder === undefined;
      if (!waiting) break;
      setStatus(OrderStatus.BACKORDERED);
      await waitForBackorder();
    }
    // Nothing may be awaited from here on: a payment signalled now would be left unsettled.
    const status = finalStatus(base);
    setStatus(status);
    metrics.sagaEnded(status);
    return state;
  };

  const finalStatus = (base: OrderStatus): OrderStatus => {
    const all = [...settlements.values()];
    if (all.some((s) => s.state === PaymentState.CONFIRMED)) return OrderStatus.CONFIRMED;
    if (all.some((s) => s.state === PaymentState.BACKORDERED)) {
      if (inbox.backorder === 'CONFIRMED') return OrderStatus.CONFIRMED;
      state.refundReason = 'the pre-sale goods received could not cover this order';
      return OrderStatus.REFUND_REQUIRED;
    }
    const refund = all.find((s) => refundStates.includes(s.state));
    if (refund) {
      state.refundReason = refund.reason;
      return OrderStatus.REFUND_REQUIRED;
    }
    return base;
  };

  if (input.reservation) {
    // Held on the request path, committed with this saga's outbox row: the search
    // attributes came with the start; the saga closes what PostgreSQL decided.
    state.reservation = input.reservation;
    if (state.reservation.status === 'reserved') state.status = OrderStatus.AWAITING_PAYMENT;
  } else {
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    const deadlineMs = (input.reserveDeadlineSeconds ?? DEFAULT_RESERVE_DEADLINE_SECONDS) * 1000;
    try {
      // The deadline is a workflow timer, so it holds whatever the activity's retries do.
      state.reservation = await CancellationScope.withTimeout(deadlineMs, () =>
        reserve({ ...order, reservationId: order.orderId, expiresAt: expiresAt.toISOString() }),
      );
    } catch (err) {
      if (!(err instanceof ActivityFailure) && !isCancellation(err)) throw err;
      // The reserve could not be completed in time. It may still commit, so close the
      // transaction: a release either gives the hold back or fences out a late reserve.
      state.reservation = { status: 'rejected', reason: 'RESERVE_FAILED' } satisfies ReserveOutcome;
      state.releasedAt = releasedAt(await release(order.orderId, 'CANCELLED'));
      state.releaseReason = 'RESERVE_FAILED';
      return finish(OrderStatus.REJECTED);
    }
  }
  if (state.reservation.status !== 'reserved') return finish(OrderStatus.REJECTED);

  state.expiresAt = state.reservation.expiresAt;
  const holdEnds = Date.parse(state.reservation.expiresAt);
  /** Waits `left` ms for a payment or cancel, checking PostgreSQL every STORED_CHECK_MS for a payment whose signal was lost. */
  const onTime = (p: StoredPayment) => Date.parse(p.receivedAt) <= holdEnds;
  const waitForPayment = async (woken: () => boolean, left: number) => {
    if (!patched(OrderPatch.READ_STORED_PAYMENTS)) return void (await condition(woken, left));
    for (; left > 0 && !woken(); left = holdEnds - Date.now()) {
      if (await condition(woken, Math.min(left, STORED_CHECK_MS))) return;
      if (left > STORED_CHECK_MS) adoptStored(await readOrderPayments(order.orderId), onTime);
    }
  };
  if (!input.reservation) setStatus(OrderStatus.AWAITING_PAYMENT, [{ key: ReservationExpiresAtAttr, value: new Date(holdEnds) }]);
  // A payment that does not pay for this order (wrong amount) is settled and the hold waits
  // on; any other settlement decides the order (a sale, or a pre-order the goods could not cover).
  const decided = () => [...settlements.values()].some((s) => s.state !== PaymentState.AMOUNT_MISMATCH && s.state !== PaymentState.DUPLICATE_CHARGE);
  while (!decided()) {
    const left = holdEnds - Date.now();
    const woken = () => unsettled().length > 0 || inbox.cancelRequested;
    // A saga that starts after its hold expired, or with a payment or cancel in hand, does not
    // wait at all (a zero-length wait would still record a timer and a workflow task).
    if (!patched(OrderPatch.SKIP_IDLE_WAIT)) await condition(woken, Math.max(0, left));
    else if (left > 0 && !woken()) await waitForPayment(woken, left);
    // Time is up with no payment signalled: a payment PostgreSQL received before the hold
    // expired is on time, whether or not its signal came (Temporal may have been down).
    if (!woken() && patched(OrderPatch.READ_STORED_PAYMENTS)) {
      adoptStored(await readOrderPayments(order.orderId), onTime);
    }
    if (unsettled().length === 0) break;
    // The shopper was told CANCELLING (202): the order is released, and the payment that came
    // with or before the cancel is refunded after the release (settleOrderPayment's CANCELLED_REFUNDS).
    if (inbox.cancelRequested && patched(OrderPatch.CANCEL_WINS)) break;
    setStatus(OrderStatus.CONFIRMING);
    await drain();
    if (!decided()) setStatus(OrderStatus.AWAITING_PAYMENT);
  }
  if (sold()) return finish(OrderStatus.CONFIRMED);

  const reason: ReleaseReason = inbox.cancelRequested ? 'CANCELLED' : 'EXPIRED';
  setStatus(OrderStatus.RELEASING);
  const released = await release(order.orderId, reason);
  // Not held any more: paid by another path (a settlement the backstop drove), or a pre-order
  // its goods could not cover; the settlements say which.
  if (released.status === 'already_confirmed') return finish(OrderStatus.CONFIRMED);
  state.releaseReason = reason;
  state.releasedAt = releasedAt(released);
  return finish(OrderStatus.RELEASED);
}

/**
 * When the hold was given back: the release transaction's own time. Workflow time would be
 * when the release started (a local activity runs inside the workflow task that asked for it,
 * and retries on lock timeouts can take a minute); outcomes recorded before the activity said
 * fall back to it.
 */
function releasedAt(outcome: ReleaseOutcome): string {
  return (outcome.status === 'released' && outcome.releasedAt) || new Date().toISOString();
}
