/**
 * Every signal, query and update of the workflows, with their payload types, defined once
 * so the API and the workflows cannot disagree on a name or a shape. The order saga's own
 * types (its input, state and statuses) are domain/order-saga.ts.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BackorderOutcome, OrderEdit, OrderState } from '../domain/order-saga';
import type { OrderRequest, Payment, ReserveOutcome } from '../domain/types';

/**
 * Update sent with the workflow start: resolves once the reserve step has an outcome. A
 * repeat with other lines or another user is rejected by the validator (ORDER_CONFLICT).
 */
export const placeOrderUpdate = defineUpdate<ReserveOutcome, [OrderRequest]>('placeOrder');
/** The payment provider reported a successful payment. Duplicates change nothing. */
export const paymentSignal = defineSignal<[Payment]>('payment');
/** The shopper or the shop cancelled the order before payment; or, with reason PAYMENT_CANCELED, the payment provider closed its payment for good. */
export const cancelSignal = defineSignal<[{ reason: string }]>('cancel');
/** The cancel's reason when the payment provider closed the order's payment for good (`payment.canceled`): the hold is released with it. */
export const PAYMENT_CANCELED = 'PAYMENT_CANCELED';
/**
 * The hold was extended in PostgreSQL (POST /orders/:id/extend, a payment.pending webhook):
 * its new expiry. The saga's timer, its search attribute and its state follow it; an older or
 * repeated expiry changes nothing.
 */
export const holdExtendedSignal = defineSignal<[{ extensionId: string; expiresAt: string }]>('holdExtended');
/** PostgreSQL committed an edit of the order's lines or amount (POST /orders/:id/edit). */
export const orderEditedSignal = defineSignal<[OrderEdit]>('orderEdited');
/** Current saga state. */
export const statusQuery = defineQuery<OrderState>('status');

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
export const backorderSettledSignal = defineSignal<[{ status: BackorderOutcome }]>('backorderSettled');

/** Input of a pre-sale's fulfilment workflow (id `pre-sale-fulfilment-<campaignId>`). */
export interface FulfilmentInput {
  readonly campaignId: string;
  readonly idempotencyKey: string;
  readonly quantity: number;
}
