/**
 * The order saga's words: what starts it, the stages it goes through, what it knows, and the
 * pure rules its settlements decide by. The API, the activities and the workflows agree on one
 * shape without importing workflow code; the signals, query and update that carry these types
 * are in workflows/messages.ts, the state machine that runs them in workflows/order-saga.ts.
 */
import { PaymentState, refundStates, type Settlement } from './payments';
import type { AllocationPreferences, Payment, OrderLine, OrderRequest, RequestedLine, ReserveOutcome } from './types';

/** Stages of an order saga. Terminal: CONFIRMED, RELEASED, REJECTED, REFUND_REQUIRED. */
export const OrderStatus = {
  RESERVING: 'RESERVING',
  AWAITING_PAYMENT: 'AWAITING_PAYMENT',
  CONFIRMING: 'CONFIRMING',
  RELEASING: 'RELEASING',
  /** A paid pre-order waiting for the goods to arrive. */
  BACKORDERED: 'BACKORDERED',
  CONFIRMED: 'CONFIRMED',
  RELEASED: 'RELEASED',
  REJECTED: 'REJECTED',
  REFUND_REQUIRED: 'REFUND_REQUIRED',
} as const;
export type OrderStatus = (typeof OrderStatus)[keyof typeof OrderStatus];

/** Input of the order workflow. */
export interface OrderWorkflowInput {
  readonly order: OrderRequest;
  /** Hold lifetime; the workflow releases the hold this long after reserving it. */
  readonly ttlSeconds: number;
  /** A flash-sale order admitted by the Redis gate: its token goes back if no sale results. */
  readonly gateAdmitted?: boolean;
  /** How long the reserve may take before the saga gives up and compensates (default 120). */
  readonly reserveDeadlineSeconds?: number;
  /**
   * The hold the request path already committed (with this saga's outbox row): the saga
   * starts from it instead of reserving, and enforces its expiry.
   */
  readonly reservation?: ReserveOutcome;
  /** The API key that placed the order (GET and cancel answer other shops' keys 404); the saga does not use it. */
  readonly placedBy?: string;
}

/**
 * An order edit PostgreSQL committed (POST /orders/:id/edit): the complete new set of lines
 * and the amount, at the order's new `version`. The saga learns it by signal; an older version
 * than the one it knows changes nothing.
 */
export interface OrderEdit {
  readonly editId: string;
  readonly version: number;
  readonly lines: readonly OrderLine[];
  readonly amountCents?: number;
}

/** A payment the saga settled, as the status query shows it. */
export interface SettledPayment {
  readonly paymentId: string;
  readonly amountCents: number;
  /** The settled PaymentState (domain/payments.ts). */
  readonly state: string;
  readonly reason?: string;
}

/** What the order workflow knows; returned by the status query and as its result. */
export interface OrderState {
  readonly orderId: string;
  readonly userId: string;
  /** As ordered (or as last edited); the reservation's `lines` and `allocations` say where they were placed. */
  lines: readonly RequestedLine[];
  /** The order's version: 0 as placed, +1 per edit the saga learnt. */
  version?: number;
  readonly allocation?: AllocationPreferences;
  status: OrderStatus;
  reservation?: ReserveOutcome;
  expiresAt?: string;
  payment?: Payment;
  /** When the hold was given back (the release transaction's time). */
  releasedAt?: string;
  /** Set on a release: why it happened. */
  releaseReason?: 'EXPIRED' | 'CANCELLED' | 'PAYMENT_CANCELED' | 'RESERVE_FAILED';
  /** Set when a payment could not be turned into a sale. */
  refundReason?: string;
  /** Payments that did not pay for the order (each needs a refund). */
  extraPayments: Pick<Payment, 'paymentId' | 'amountCents'>[];
  /** Every payment the saga settled, in the order it settled them. */
  payments: SettledPayment[];
  /** True when the sale was made by re-reserving after the hold had been released. */
  lateConfirmed?: boolean;
}

/** Input of the late-payment workflow: a payment for an order whose saga has ended. */
export interface LatePaymentInput {
  readonly orderId: string;
  readonly payment: Payment;
  readonly ttlSeconds: number;
}

/** How a pre-order's backorder ended when its goods arrived (the fulfilment's word). */
export type BackorderOutcome = 'CONFIRMED' | 'REFUND_REQUIRED';

/** Whether the order was released because it was cancelled (by the shopper or shop, or by the payment provider): a payment for it is refunded, never sold. */
export function wasCancelled(releaseReason: string | null | undefined): boolean {
  return releaseReason === 'CANCELLED' || releaseReason === 'PAYMENT_CANCELED';
}

/** Whether a settled payment made the sale: confirmed, or a paid pre-order backordered until its goods arrive. */
export function madeSale(settled: Settlement): boolean {
  return settled.state === PaymentState.CONFIRMED || settled.state === PaymentState.BACKORDERED;
}

/**
 * Whether a settled payment decides the order: any settlement but a wrong amount or a second
 * charge (those are refunded, and the hold waits on for the payment that pays for it).
 */
export function decidesOrder(settled: Settlement): boolean {
  return settled.state !== PaymentState.AMOUNT_MISMATCH && settled.state !== PaymentState.DUPLICATE_CHARGE;
}

/**
 * The status an order saga ends with. A confirmed payment makes it CONFIRMED; a backordered
 * one ends as its goods decided (REFUND_REQUIRED for a shortfall); a refund makes it
 * REFUND_REQUIRED with the refund's reason; with none of these, `base` (how the hold ended).
 */
export function orderEnding(
  settled: readonly Settlement[],
  backorder: BackorderOutcome | undefined,
  base: OrderStatus,
): { readonly status: OrderStatus; readonly refundReason?: string } {
  if (settled.some((s) => s.state === PaymentState.CONFIRMED)) return { status: OrderStatus.CONFIRMED };
  if (settled.some((s) => s.state === PaymentState.BACKORDERED)) {
    if (backorder === 'CONFIRMED') return { status: OrderStatus.CONFIRMED };
    return {
      status: OrderStatus.REFUND_REQUIRED,
      refundReason: 'the pre-sale goods received could not cover this order',
    };
  }
  const refund = settled.find((s) => refundStates.includes(s.state));
  if (refund) return { status: OrderStatus.REFUND_REQUIRED, refundReason: refund.reason };
  return { status: base };
}
