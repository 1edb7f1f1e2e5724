/**
 * The order saga's state machine; workflows/order.ts tells its story with these steps. The
 * saga holds what it knows (the status query's answer), what its handlers collected (the
 * inbox) and every payment it settled; each step reads and moves them.
 *
 * Every payment the saga hears of is settled before it ends, wherever in the saga it arrived
 * (while reserving, awaiting, releasing, giving a gate token back, or after a refusal): the
 * last thing `finish` does before returning is to check, without awaiting anything, that no
 * payment is left unsettled.
 *
 * Replay: the steps issue the commands the single function issued before them, in the same
 * order, with every `patched()` asked at the same point; the committed histories hold them to it.
 */
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import {
  ActivityFailure,
  CancellationScope,
  condition,
  isCancellation,
  patched,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import {
  decidesOrder,
  madeSale,
  orderEnding,
  OrderStatus,
  wasCancelled,
  type OrderState,
  type OrderWorkflowInput,
} from '../domain/order-saga';
import { PaymentState, type Settlement, type StoredPayment } from '../domain/payments';
import type { Payment, ReleaseOutcome, ReleaseReason, ReserveOutcome } from '../domain/types';
import { metrics, readOrderPayments, release, reserve, returnGateToken } from './activities-proxy';
import { learnEdits, setupOrderHandlers, type OrderInbox } from './order-handlers';
import { ReservationExpiresAtAttr, ReservationStatusAttr } from './search-attributes';
import { settleOrderPayment } from './settle';

/**
 * Patch ids of the order saga (CONTRIBUTING.md "Changing workflow code"): each guards a change to
 * its command sequence, so runs recorded before the change still replay.
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
  /**
   * The saga follows its hold's extensions (issue 19): while it waits for the payment, an
   * extension PostgreSQL granted (the `holdExtended` signal) moves its timer, its
   * ReservationExpiresAt search attribute and its state's `expiresAt`. Runs recorded before
   * it never heard of one.
   */
  HOLD_EXTENSION: 'order-hold-extension',
  /** The saga learns the order's edits (POST /orders/:id/edit) by the orderEdited signal. */
  LEARNS_EDITS: 'order-learns-edits',
} as const;

/**
 * How often a waiting saga (AWAITING_PAYMENT, BACKORDERED) checks PostgreSQL for what a lost
 * signal would have told it. A check is a timer and a local read: cheap, but history.
 */
export const STORED_CHECK_MS = 10 * 60_000;

/** Default for inputs that do not say: the documented 2 minutes (RESERVE_DEADLINE_SECONDS). */
const DEFAULT_RESERVE_DEADLINE_SECONDS = 120;

export class OrderSaga {
  private readonly settlements = new Map<string, Settlement>();
  /** When the hold expires (epoch ms): set once the saga holds stock. */
  private holdEnds = Number.NaN;
  /** Whether this run follows its hold's extensions (OrderPatch.HOLD_EXTENSION), asked once. */
  private followsExtensions?: boolean;

  private constructor(
    private readonly input: OrderWorkflowInput,
    /** What the saga knows: the status query's answer and the workflow's result. */
    private readonly state: OrderState,
    private readonly inbox: OrderInbox,
  ) {}

  /** The saga in its first stage, its handlers set: call it before any await (the update that came with the start must find them). */
  static setup(input: OrderWorkflowInput): OrderSaga {
    const { order } = input;
    const state: OrderState = {
      orderId: order.orderId,
      userId: order.userId,
      lines: order.lines,
      allocation: order.allocation,
      status: OrderStatus.RESERVING,
      extraPayments: [],
      payments: [],
    };
    const inbox = setupOrderHandlers(state, order);
    if (patched(OrderPatch.LEARNS_EDITS)) learnEdits(state);
    return new OrderSaga(input, state, inbox);
  }

  /**
   * Starts from the hold the request path committed with this saga's outbox row (the search
   * attributes came with the start): the saga closes what PostgreSQL decided. True if it holds stock.
   */
  adoptHold(reservation: ReserveOutcome): boolean {
    if (!this.held(reservation)) return false;
    this.state.status = OrderStatus.AWAITING_PAYMENT;
    return true;
  }

  /**
   * Reserves within the input's deadline, a workflow timer, so it holds whatever the activity's
   * retries do. A reserve not completed in time may still commit, so it is compensated: a
   * release gives the hold back or fences out the late reserve (RESERVE_FAILED). True if it holds stock.
   */
  async reserveHold(): Promise<boolean> {
    const { order, ttlSeconds, reserveDeadlineSeconds } = this.input;
    const expiresAt = new Date(Date.now() + ttlSeconds * 1000);
    const deadlineMs = (reserveDeadlineSeconds ?? DEFAULT_RESERVE_DEADLINE_SECONDS) * 1000;
    let outcome: ReserveOutcome;
    try {
      outcome = await CancellationScope.withTimeout(deadlineMs, () =>
        reserve({ ...order, reservationId: order.orderId, expiresAt: expiresAt.toISOString() }),
      );
    } catch (err) {
      if (!(err instanceof ActivityFailure) && !isCancellation(err)) throw err;
      this.state.reservation = { status: 'rejected', reason: 'RESERVE_FAILED' } satisfies ReserveOutcome;
      this.state.releasedAt = releasedAt(await release(order.orderId, 'CANCELLED'));
      this.state.releaseReason = 'RESERVE_FAILED';
      return false;
    }
    if (!this.held(outcome)) return false;
    this.setStatus(OrderStatus.AWAITING_PAYMENT, [{ key: ReservationExpiresAtAttr, value: new Date(this.holdEnds) }]);
    return true;
  }

  /**
   * Waits for the payment that decides the order, settling each payment as it arrives, until
   * one decides it, the order is cancelled or the hold expires. A payment that does not pay
   * for this order (wrong amount, a second charge) is settled and the hold waits on; any other
   * settlement decides the order (a sale, or a pre-order the goods could not cover).
   */
  async awaitPayment(): Promise<void> {
    // Asked once per run: a run that took the old path keeps it (a wait re-entered after a release
    // PostgreSQL refused must not insert the marker half-way).
    this.followsExtensions ??= patched(OrderPatch.HOLD_EXTENSION);
    const follows = this.followsExtensions;
    const extended = () => follows && (this.inbox.extendedTo ?? 0) > this.holdEnds;
    const woken = () => this.unsettled().length > 0 || this.inbox.cancelRequested || extended();
    while (!this.decided()) {
      if (extended()) this.followExtension();
      const left = this.holdEnds - Date.now();
      // A saga that starts after its hold expired, or with a payment or cancel in hand, does not
      // wait at all (a zero-length wait would still record a timer and a workflow task).
      if (!patched(OrderPatch.SKIP_IDLE_WAIT)) await condition(woken, Math.max(0, left));
      else if (left > 0 && !woken()) await this.waitForPayment(woken, left);
      // The hold was extended meanwhile: wait again, until the new expiry.
      if (extended() && this.unsettled().length === 0 && !this.inbox.cancelRequested) continue;
      // Time is up with no payment signalled: a payment PostgreSQL received before the hold
      // expired is on time, whether or not its signal came (Temporal may have been down).
      if (!woken() && patched(OrderPatch.READ_STORED_PAYMENTS)) {
        this.adoptStored(await readOrderPayments(this.input.order.orderId), this.onTime);
      }
      if (this.unsettled().length === 0) return;
      // The shopper was told CANCELLING (202): the order is released, and the payment that came
      // with or before the cancel is refunded after the release (settleOrderPayment's CANCELLED_REFUNDS).
      if (this.inbox.cancelRequested && patched(OrderPatch.CANCEL_WINS)) return;
      this.setStatus(OrderStatus.CONFIRMING);
      await this.drain();
      if (!this.decided()) this.setStatus(OrderStatus.AWAITING_PAYMENT);
    }
  }

  /** Whether a payment made the sale (confirmed, or a paid pre-order backordered). */
  sold(): boolean {
    return [...this.settlements.values()].some(madeSale);
  }

  /**
   * Gives the hold back, CANCELLED or EXPIRED; returns the status the saga ends with. A hold
   * found confirmed was paid by another path (a settlement the backstop drove), or is a
   * pre-order its goods could not cover: the settlements say which.
   */
  async releaseHold(): Promise<OrderStatus> {
    let reason = this.releaseReason();
    this.setStatus(OrderStatus.RELEASING);
    let released = await release(this.input.order.orderId, reason);
    // PostgreSQL says the hold has not expired: it was extended and the signal has not come (or
    // not yet). Its expiry stands: wait for it (at least a second more: never spin on a clock
    // skew), then release again. No recorded history has this outcome.
    while (released.status === 'not_expired') {
      this.inbox.extendedTo = Math.max(this.inbox.extendedTo ?? 0, Date.parse(released.expiresAt));
      this.followExtension();
      this.holdEnds = Math.max(this.holdEnds, Date.now() + 1000);
      this.setStatus(OrderStatus.AWAITING_PAYMENT);
      await this.awaitPayment();
      if (this.sold()) return OrderStatus.CONFIRMED;
      reason = this.releaseReason();
      this.setStatus(OrderStatus.RELEASING);
      released = await release(this.input.order.orderId, reason);
    }
    if (released.status === 'already_confirmed') return OrderStatus.CONFIRMED;
    this.state.releaseReason = reason;
    this.state.releasedAt = releasedAt(released);
    return OrderStatus.RELEASED;
  }

  /**
   * Ends the saga: every payment settled, the gate token back if no sale came of it, a paid
   * pre-order waited for until its goods arrive. `base` is the status when no settlement says otherwise.
   */
  async finish(base: OrderStatus): Promise<OrderState> {
    const { order, gateAdmitted } = this.input;
    await this.settleAll();
    const soldOut = this.state.reservation?.status === 'rejected' && this.state.reservation.reason === 'SOLD_OUT';
    if (gateAdmitted && order.campaignId && !soldOut && !this.sold()) {
      // The gate only admits; a give-back that keeps failing is corrected by the gate's sync.
      await returnGateToken(order.campaignId, order.userId, order.orderId).catch(() => undefined);
    }
    // A paid pre-order waits for its goods; payments that land meanwhile are settled too.
    for (;;) {
      await this.settleAll();
      const waiting =
        [...this.settlements.values()].some((s) => s.state === PaymentState.BACKORDERED) &&
        this.inbox.backorder === undefined;
      if (!waiting) break;
      this.setStatus(OrderStatus.BACKORDERED);
      await this.waitForBackorder();
    }
    // Nothing may be awaited from here on: a payment signalled now would be left unsettled.
    const { status, refundReason } = orderEnding([...this.settlements.values()], this.inbox.backorder, base);
    if (status === OrderStatus.REFUND_REQUIRED) this.state.refundReason = refundReason;
    this.setStatus(status);
    metrics.sagaEnded(status);
    return this.state;
  }

  /** Records the reserve's outcome; true when it holds stock, whose expiry then bounds the wait. */
  private held(outcome: ReserveOutcome): boolean {
    this.state.reservation = outcome;
    if (outcome.status !== 'reserved') return false;
    this.state.expiresAt = outcome.expiresAt;
    this.holdEnds = Date.parse(outcome.expiresAt);
    return true;
  }

  /** Why the hold goes back now: cancelled (by the shopper or shop, or the payment provider closed the payment), or expired. */
  private releaseReason(): Extract<ReleaseReason, 'CANCELLED' | 'PAYMENT_CANCELED' | 'EXPIRED'> {
    return this.inbox.cancelRequested ? (this.inbox.cancelReason ?? 'CANCELLED') : 'EXPIRED';
  }

  /** Takes the hold's new expiry (an extension PostgreSQL granted): the wait, the state and the search attribute follow it. */
  private followExtension(): void {
    this.holdEnds = this.inbox.extendedTo ?? this.holdEnds;
    this.state.expiresAt = new Date(this.holdEnds).toISOString();
    this.setStatus(this.state.status, [{ key: ReservationExpiresAtAttr, value: new Date(this.holdEnds) }]);
  }

  private decided(): boolean {
    return [...this.settlements.values()].some(decidesOrder);
  }

  private unsettled(): Payment[] {
    return this.inbox.payments.filter((p) => !this.settlements.has(p.paymentId));
  }

  /** A stored payment received before the hold expired: on time, whether or not its signal came. */
  private readonly onTime = (p: StoredPayment): boolean => Date.parse(p.receivedAt) <= this.holdEnds;

  /**
   * Stable stages are indexed for the Temporal UI; the transient CONFIRMING and RELEASING
   * live only in the query state: their step runs inside one workflow task, so an indexed
   * value would never be seen, and each upsert is a history event and a visibility write.
   */
  private setStatus(status: OrderStatus, extra: SearchAttributeUpdatePair[] = []): void {
    if (status === this.state.status && extra.length === 0) return;
    this.state.status = status;
    if (status === OrderStatus.CONFIRMING || status === OrderStatus.RELEASING) return;
    upsertSearchAttributes([{ key: ReservationStatusAttr, value: status }, ...extra]);
  }

  /** Waits `left` ms for a payment or cancel, checking PostgreSQL every STORED_CHECK_MS for a payment whose signal was lost. */
  private async waitForPayment(woken: () => boolean, left: number): Promise<void> {
    if (!patched(OrderPatch.READ_STORED_PAYMENTS)) return void (await condition(woken, left));
    for (; left > 0 && !woken(); left = this.holdEnds - Date.now()) {
      if (await condition(woken, Math.min(left, STORED_CHECK_MS))) return;
      if (left > STORED_CHECK_MS) this.adoptStored(await readOrderPayments(this.input.order.orderId), this.onTime);
    }
  }

  /** BACKORDERED until the goods arrive: the fulfilment's signal, or PostgreSQL's word if the signal was lost. */
  private async waitForBackorder(): Promise<void> {
    const woken = () => this.inbox.backorder !== undefined || this.unsettled().length > 0;
    if (!patched(OrderPatch.READ_STORED_PAYMENTS)) return void (await condition(woken));
    while (!(await condition(woken, STORED_CHECK_MS))) {
      const stored = await readOrderPayments(this.input.order.orderId);
      const ended = stored.find(
        (p) =>
          this.settlements.get(p.paymentId)?.state === PaymentState.BACKORDERED && p.state !== PaymentState.BACKORDERED,
      );
      if (ended?.state === PaymentState.CONFIRMED || ended?.state === PaymentState.REFUND_REQUIRED)
        this.inbox.backorder ??= ended.state;
      this.adoptStored(stored);
    }
  }

  /** Settles every payment received so far, one at a time, until none is left. */
  private async drain(): Promise<void> {
    const { order, ttlSeconds } = this.input;
    const { state } = this;
    for (let next = this.unsettled()[0]; next; next = this.unsettled()[0]) {
      const refused = state.reservation?.status === 'rejected' ? state.reservation.reason : undefined;
      const s = await settleOrderPayment(order, next, {
        ttlSeconds,
        refusedBecause: refused,
        cancelled: wasCancelled(state.releaseReason),
      });
      this.settlements.set(next.paymentId, s);
      state.payments.push({
        paymentId: next.paymentId,
        amountCents: next.amountCents,
        state: s.state,
        ...(s.reason ? { reason: s.reason } : {}),
      });
      if (s.state === PaymentState.CONFIRMED || s.state === PaymentState.BACKORDERED) state.payment ??= next;
      else state.extraPayments.push({ paymentId: next.paymentId, amountCents: next.amountCents });
      if (s.state === PaymentState.CONFIRMED && s.reservationId !== order.orderId) state.lateConfirmed = true;
    }
  }

  /**
   * Settles every payment received so far, then every payment PostgreSQL holds for the order,
   * until a read finds none left. Signals are not enough at the end: one that lands in the
   * same activation as the last step's result may be handled after the workflow returned
   * (a captured history: the payment stayed PENDING), while PostgreSQL has the payment
   * before any signal is sent. A completion Temporal rejects for a new signal is retried with
   * this read run again, since its result was part of the rejected completion.
   */
  private async settleAll(): Promise<void> {
    await this.drain();
    if (!patched(OrderPatch.READ_STORED_PAYMENTS)) return;
    while (this.adoptStored(await readOrderPayments(this.input.order.orderId)) > 0) await this.drain();
  }

  /**
   * Takes the order's PENDING payments stored in PostgreSQL that no signal brought (yet) into
   * the inbox; `onTime` narrows them (those received before the hold expired). Returns how many.
   */
  private adoptStored(stored: readonly StoredPayment[], onTime: (p: StoredPayment) => boolean = () => true): number {
    const known = (id: string) => this.settlements.has(id) || this.inbox.payments.some((p) => p.paymentId === id);
    const fresh = stored.filter((p) => p.state === PaymentState.PENDING && !known(p.paymentId) && onTime(p));
    for (const { eventId, paymentId, amountCents } of fresh)
      this.inbox.payments.push({ eventId, paymentId, amountCents });
    return fresh.length;
  }
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
