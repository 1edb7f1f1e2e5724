/**
 * Every signal, query and update of the workflows, with their payload types, defined once
 * so the API and the workflows cannot disagree on a name or a shape.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AllocationPreferences, OrderRequest, Payment, RequestedLine, ReserveOutcome } from '../domain/types';

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
  /** As ordered; the reservation's `lines` and `allocations` say where they were placed. */
  readonly lines: readonly RequestedLine[];
  readonly allocation?: AllocationPreferences;
  status: OrderStatus;
  reservation?: ReserveOutcome;
  expiresAt?: string;
  payment?: Payment;
  /** When the hold was given back (the release transaction's time). */
  releasedAt?: string;
  /** Set on a release: why it happened. */
  releaseReason?: 'EXPIRED' | 'CANCELLED' | 'RESERVE_FAILED';
  /** Set when a payment could not be turned into a sale. */
  refundReason?: string;
  /** Payments that did not pay for the order (each needs a refund). */
  extraPayments: Pick<Payment, 'paymentId' | 'amountCents'>[];
  /** Every payment the saga settled, in the order it settled them. */
  payments: SettledPayment[];
  /** True when the sale was made by re-reserving after the hold had been released. */
  lateConfirmed?: boolean;
}

/**
 * Update sent with the workflow start: resolves once the reserve step has an outcome. A
 * repeat with other lines or another user is rejected by the validator (ORDER_CONFLICT).
 */
export const placeOrderUpdate = defineUpdate<ReserveOutcome, [OrderRequest]>('placeOrder');
/** The payment provider reported a successful payment. Duplicates change nothing. */
export const paymentSignal = defineSignal<[Payment]>('payment');
/** The shopper or the shop cancelled the order before payment. */
export const cancelSignal = defineSignal<[{ reason: string }]>('cancel');
/** Current saga state. */
export const statusQuery = defineQuery<OrderState>('status');

/** Input of the late-payment workflow: a payment for an order whose saga has ended. */
export interface LatePaymentInput {
  readonly orderId: string;
  readonly payment: Payment;
  readonly ttlSeconds: number;
}

/** Input of a campaign's lifecycle workflow (id `campaign-<id>`). */
export interface CampaignWorkflowInput {
  readonly campaignId: string;
  readonly startsAt: string;
  readonly endsAt: string;
  /** How often the gate is compared with PostgreSQL while the campaign runs. */
  readonly gateCheckSeconds: number;
}

/** Stage of a campaign's lifecycle. */
export type CampaignPhase = 'SCHEDULED' | 'RUNNING' | 'ENDING' | 'ENDED';

/** End a campaign before its end time; unsold units return to normal stock. */
export const endCampaignSignal = defineSignal('endCampaign');
/** The campaign workflow's phase and its gate rebuild count. */
export const campaignPhaseQuery = defineQuery<{ phase: CampaignPhase; gateRebuilds: number }>('campaignPhase');

/** A pre-order's backorder was settled when the goods arrived (sent by the fulfilment). */
export const backorderSettledSignal = defineSignal<[{ status: 'CONFIRMED' | 'REFUND_REQUIRED' }]>('backorderSettled');

/** Input of a pre-sale's fulfilment workflow (id `pre-sale-fulfilment-<campaignId>`). */
export interface FulfilmentInput {
  readonly campaignId: string;
  readonly idempotencyKey: string;
  readonly quantity: number;
}
