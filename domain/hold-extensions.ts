/**
 * Extending a hold that is still waiting for its payment (issue 19): a 3-D Secure challenge
 * that outlasts the TTL should not turn into a late payment and a refund. PostgreSQL decides
 * (one guarded UPDATE on the hold, under its fence); the saga then follows the new expiry.
 * Pure words and types only.
 */
import { ErrorCode } from './errors';
import { PaymentEventType, type EventRedelivery } from './payments';

/** Who asked for the extension. */
export const ExtensionSource = {
  /** POST /orders/:id/extend. */
  API: 'API',
  /** A `payment.pending` webhook: the payment is on its way (3-D Secure, a bank transfer). */
  PAYMENT_PENDING: 'PAYMENT_PENDING',
  /** The operator console's Extend, by a key with scope admin (its admin_audit row names the key). */
  CONSOLE: 'CONSOLE',
} as const;
export type ExtensionSource = (typeof ExtensionSource)[keyof typeof ExtensionSource];

/** The caps on extending one hold (settings HOLD_EXTENSION_*). */
export interface HoldExtensionCaps {
  /** Most seconds one extension may add. */
  readonly maxSeconds: number;
  /** Most seconds all the extensions of one hold may add together. */
  readonly maxTotalSeconds: number;
  /** How many times one hold may be extended. */
  readonly maxCount: number;
}

/** An extension asked for: fenced by (orderId, extensionId). */
export interface ExtensionRequest {
  readonly orderId: string;
  readonly extensionId: string;
  readonly seconds: number;
  readonly reason: string;
  readonly source: ExtensionSource;
}

/** The codes an extension is refused with (each a 409 of domain/errors.ts). */
export type ExtensionRefusal =
  typeof ErrorCode.HOLD_EXPIRED | typeof ErrorCode.NOT_EXTENDABLE | typeof ErrorCode.EXTENSION_LIMIT_REACHED;

/** The answer an extension got, recorded with it: a repeat of its extension id gets it again. */
export type ExtensionOutcome =
  | {
      readonly status: 'EXTENDED';
      readonly orderId: string;
      readonly extensionId: string;
      /** The hold's new expiry. */
      readonly expiresAt: string;
      /** Extensions of this hold so far, and the seconds they added. */
      readonly extensionCount: number;
      readonly extendedSeconds: number;
    }
  | {
      readonly status: 'REFUSED';
      readonly orderId: string;
      readonly extensionId: string;
      readonly code: ExtensionRefusal;
      readonly message: string;
    };

/** The hold as the extension finds it, under the order's lock. */
export interface ExtendableHold {
  readonly status: string;
  readonly live: boolean;
  readonly releaseReason: string | null;
  readonly extensionCount: number;
  readonly extendedSeconds: number;
  /** FLASH_SALE or PRE_SALE for a campaign order. */
  readonly campaignKind: string | null;
  readonly campaignAllowsExtension: boolean;
}

/**
 * Why this hold may not be extended by `seconds`, or undefined if it may (the guarded UPDATE
 * still has the last word on whether it is live). Order: what the order is, then whether it
 * still waits, then the caps.
 */
export function extensionRefusal(
  hold: ExtendableHold,
  seconds: number,
  caps: HoldExtensionCaps,
): { readonly code: ExtensionRefusal; readonly message: string } | undefined {
  if (hold.campaignKind === 'PRE_SALE')
    return { code: ErrorCode.NOT_EXTENDABLE, message: 'a pre-order is not held against a TTL of its own to extend' };
  if (hold.campaignKind !== null && !hold.campaignAllowsExtension) {
    return {
      code: ErrorCode.NOT_EXTENDABLE,
      message: 'this flash sale does not allow extending holds (allowHoldExtension)',
    };
  }
  if (hold.status === 'RELEASED' && hold.releaseReason === 'EXPIRED')
    return { code: ErrorCode.HOLD_EXPIRED, message: 'the hold expired and was released' };
  if (hold.status !== 'RESERVED')
    return { code: ErrorCode.NOT_EXTENDABLE, message: `the hold is ${hold.status}, no longer waiting for a payment` };
  if (!hold.live) return { code: ErrorCode.HOLD_EXPIRED, message: 'the hold has expired' };
  if (seconds > caps.maxSeconds)
    return { code: ErrorCode.EXTENSION_LIMIT_REACHED, message: `one extension adds at most ${caps.maxSeconds} s` };
  if (hold.extensionCount >= caps.maxCount)
    return { code: ErrorCode.EXTENSION_LIMIT_REACHED, message: `a hold is extended at most ${caps.maxCount} times` };
  if (hold.extendedSeconds + seconds > caps.maxTotalSeconds) {
    return {
      code: ErrorCode.EXTENSION_LIMIT_REACHED,
      message: `a hold is extended by at most ${caps.maxTotalSeconds} s in all (${hold.extendedSeconds} s so far)`,
    };
  }
  return undefined;
}

/** What a `payment.pending` event decided: the hold extended (or why not), or a redelivery / conflict. */
export type PendingOutcome =
  { readonly kind: 'accepted'; readonly answer: string; readonly extension?: ExtensionOutcome } | EventRedelivery;

/** The payment a `payment.pending` event reports: the fields its event id is compared on. */
export interface PendingPayment {
  readonly orderId: string;
  readonly paymentId: string;
  readonly amountCents: number;
}

/** The extension a `payment.pending` event asks for: once per payment (id `payment-pending:<paymentId>`). */
export function pendingPaymentExtension(p: PendingPayment, seconds: number): ExtensionRequest {
  return {
    orderId: p.orderId,
    extensionId: `payment-pending:${p.paymentId}`,
    seconds,
    reason: `payment ${p.paymentId} pending`,
    source: ExtensionSource.PAYMENT_PENDING,
  };
}

/** The answer stored with the event: EXTENDED, the refusal's code, or NO_HOLD when nothing is held. */
export function pendingPaymentAnswer(extension: ExtensionOutcome | undefined): string {
  if (!extension) return 'NO_HOLD';
  return extension.status === 'EXTENDED' ? 'EXTENDED' : extension.code;
}

/**
 * A redelivered event id: its first answer when the stored event is this one (same order,
 * payment, amount and type `payment.pending`), a conflict otherwise.
 */
export function redeliveredPendingEvent(
  eventId: string,
  seen: { order_id: string; payment_id: string; amount_cents: number; type: string; answer: string | null },
  p: PendingPayment,
): PendingOutcome {
  const same =
    seen.order_id === p.orderId &&
    seen.payment_id === p.paymentId &&
    seen.amount_cents === p.amountCents &&
    seen.type === PaymentEventType.PENDING;
  if (!same) return { kind: 'conflict', message: `event ${eventId} was delivered with other content` };
  return { kind: 'duplicate', answer: seen.answer ?? 'RECEIVED' };
}
