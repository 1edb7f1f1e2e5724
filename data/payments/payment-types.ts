/**
 * The shapes the payment data functions answer with, on either store: data/payments/ (the
 * PostgreSQL path, which re-exports them) and data/mariadb/ (MySQL/MariaDB) import them from
 * here, so neither store's module imports the other's.
 */
import type { EventRedelivery, OrderPayment, PaymentState } from '../../domain/payments';

/** A payment as stored. */
export interface PaymentRecord {
  readonly orderId: string;
  readonly paymentId: string;
  readonly eventId: string;
  readonly amountCents: number;
  /** ISO 4217, when the provider said. */
  readonly currency: string | null;
  readonly state: PaymentState;
  readonly reason: string | null;
  readonly reservationId: string | null;
  readonly receivedAt: string;
  readonly settledAt: string | null;
}

/** A keyset position in the PENDING payments, in the order the backstop reads them. */
export interface PaymentCursor {
  readonly receivedAt: string;
  readonly orderId: string;
  readonly paymentId: string;
}

/** The answer the provider gets: ACCEPTED (stored, delivery under way) or SETTLED (it already was). */
export type PaymentAnswer = 'ACCEPTED' | 'SETTLED';

/** What the webhook's transaction decided. */
export type AcceptOutcome =
  /** First time this event is seen: `deliver` says a delivery row is open (deliver it now). */
  | { readonly kind: 'accepted'; readonly answer: PaymentAnswer; readonly deliver: boolean }
  /** A redelivered event: the first answer, nothing changed. */
  | { readonly kind: 'duplicate'; readonly answer: string }
  /** The event id (or the payment id) was seen with other content: nothing changed. */
  | { readonly kind: 'conflict'; readonly message: string };

/** An open delivery, as the relay leases it. */
export interface PendingDelivery extends OrderPayment {
  /** When the payment arrived (ISO): an unknown order gets a grace from here. */
  readonly receivedAt: string;
  /** When a delivery last went through (ISO): this attempt is a re-check. */
  readonly deliveredAt?: string;
}

/** The relay's settings: how many rows per pass, and the longest wait between two attempts. */
export interface LeaseOptions {
  readonly batch: number;
  readonly maxBackoffMs: number;
}

/** What the store made of an event: new (handle it), a redelivery (its first answer), or a conflict. */
export type EventClaim = { readonly kind: 'new' } | EventRedelivery;

/** A payment's lifecycle event as `GET /orders/:id` shows it (`paymentEvents`). */
export interface LifecycleEvent {
  readonly eventId: string;
  readonly type: string;
  readonly paymentId: string;
  readonly amountCents: number;
  readonly result: string;
  readonly receivedAt: string;
}

/** A payment as the admin list and the console show it. */
export interface PaymentListRow {
  readonly orderId: string;
  readonly paymentId: string;
  readonly amountCents: number;
  readonly state: string;
  readonly reason: string | null;
  readonly receivedAt: string;
  readonly settledAt: string | null;
}

/**
 * The filter of a payments page, newest first by (received_at, order_id, payment_id): the
 * state or order asked for, and the keyset after `after`. A plain Prisma `where`, the same on
 * both stores' clients (PostgreSQL's and the MySQL one: the same model and field names).
 */
export function paymentPageWhere(f: { state?: string; orderId?: string }, after?: readonly unknown[]) {
  if (!after) return { state: f.state, orderId: f.orderId };
  const [at, orderId, paymentId] = [new Date(String(after[0])), String(after[1]), String(after[2])];
  return {
    state: f.state,
    orderId: f.orderId,
    OR: [
      { receivedAt: { lt: at } },
      { receivedAt: at, orderId: { lt: orderId } },
      { receivedAt: at, orderId, paymentId: { lt: paymentId } },
    ],
  };
}
