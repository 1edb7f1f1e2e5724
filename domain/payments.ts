/**
 * Payments as facts: every payment the provider reports is stored (table `payments`) before
 * any saga hears of it, and ends in exactly one settled state. Pure rules only; the store
 * changes the state in the same transaction as the step that settles it.
 */
import type { ConfirmOutcome, Payment } from './types';

/** Where a payment stands. Every state but PENDING is settled; BACKORDERED settles again once. */
export const PaymentState = {
  /** Stored, not yet settled by any saga. Pending for long is a drift (reconciliation). */
  PENDING: 'PENDING',
  /** It paid for a hold that was turned into a sale. */
  CONFIRMED: 'CONFIRMED',
  /** A paid pre-order waiting for its goods: CONFIRMED or REFUND_REQUIRED when they arrive. */
  BACKORDERED: 'BACKORDERED',
  /** No stock could be sold for it: the shop must refund it. */
  REFUND_REQUIRED: 'REFUND_REQUIRED',
  /** The order had already been paid by another payment: refund this one. */
  DUPLICATE_CHARGE: 'DUPLICATE_CHARGE',
  /** Not the order's amount: not confirmed; refund it (the order may still be paid correctly). */
  AMOUNT_MISMATCH: 'AMOUNT_MISMATCH',
  /** The shop gave the money back (a `payment.refunded` webhook on a payment owed back): closed. */
  REFUNDED: 'REFUNDED',
} as const;
export type PaymentState = (typeof PaymentState)[keyof typeof PaymentState];

/** States in which the shop owes the payer their money back. */
export const refundStates: readonly PaymentState[] = [
  PaymentState.REFUND_REQUIRED,
  PaymentState.DUPLICATE_CHARGE,
  PaymentState.AMOUNT_MISMATCH,
];

/**
 * An event id seen before: a redelivery of the same event gets its first answer; the id with
 * other content is a conflict (and changes nothing).
 */
export type EventRedelivery =
  { readonly kind: 'duplicate'; readonly answer: string } | { readonly kind: 'conflict'; readonly message: string };

/** What a payment webhook event reports (payment_events.type). */
export const PaymentEventType = {
  /** The payment was made: stored PENDING, then settled. */
  SUCCEEDED: 'payment.succeeded',
  /** It is on its way (a 3-D Secure challenge): the hold is extended. */
  PENDING: 'payment.pending',
  /** An attempt failed (a declined card): recorded and shown; the hold stays, the shopper may retry. */
  FAILED: 'payment.failed',
  /** The provider closed the payment for good: the hold is released at once (PAYMENT_CANCELED). */
  CANCELED: 'payment.canceled',
  /** The money went back: a payment owed back is closed REFUNDED; on a sale it is recorded (a return moves the stock). */
  REFUNDED: 'payment.refunded',
} as const;
export type PaymentEventType = (typeof PaymentEventType)[keyof typeof PaymentEventType];

/** A payment on its way to settlement: the provider's report plus the order it pays. */
export interface OrderPayment extends Payment {
  readonly orderId: string;
}

/**
 * A payment as PostgreSQL stores it: the saga reads these before it decides a hold expired
 * (a payment received before `expiresAt` is on time, whatever Temporal was doing) and before
 * it ends (no payment of its order may be left PENDING by it).
 */
export interface StoredPayment {
  readonly orderId: string;
  readonly paymentId: string;
  readonly eventId: string;
  readonly amountCents: number;
  readonly state: PaymentState;
  readonly receivedAt: string;
}

/** A settlement: the state a payment ends in, and why, for the refund cases. */
export interface Settlement {
  readonly state: Exclude<PaymentState, 'PENDING'>;
  readonly reason?: string;
  /** The hold it paid for, when it paid for one. */
  readonly reservationId?: string;
}

/**
 * What a confirm outcome means for the payment that asked for it; undefined when the hold
 * was not there (released or never taken): the caller goes on to the late-payment path.
 */
export function settlementOf(
  outcome: ConfirmOutcome,
  paymentId: string,
  reservationId: string,
): Settlement | undefined {
  switch (outcome.status) {
    case 'not_held':
      return undefined;
    case 'amount_mismatch':
      return {
        state: PaymentState.AMOUNT_MISMATCH,
        reason: `paid ${outcome.paidCents} cents, the order costs ${outcome.expectedCents}`,
      };
    default:
      if (outcome.paymentId !== paymentId) {
        return { state: PaymentState.DUPLICATE_CHARGE, reason: `order already paid by ${outcome.paymentId}` };
      }
      if (outcome.status === 'confirmed') return { state: PaymentState.CONFIRMED, reservationId };
      if (outcome.status === 'backordered') return { state: PaymentState.BACKORDERED, reservationId };
      return { state: PaymentState.REFUND_REQUIRED, reason: 'the pre-sale goods received could not cover this order' };
  }
}
