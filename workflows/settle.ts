/**
 * Settling a payment, wherever the saga stands: the one rule the order workflow and the
 * late-payment workflow share. Every payment ends in a settled state recorded in PostgreSQL
 * in the same transaction as the step that decided it (domain/payments.ts).
 *
 * 1. Confirm the order's own hold with it (a duplicate, a wrong amount or a pre-order's
 *    backorder are decided there too).
 * 2. The hold is gone (released): re-reserve the order's lines under `<orderId>:late` — from
 *    the campaign's pool first for a campaign order, then from ordinary stock under
 *    `<orderId>:late-stock` — and confirm at once.
 * 3. Nothing could be held: REFUND_REQUIRED.
 *
 * A payment for an order that was **cancelled** (released at the shopper's or shop's
 * request) is never re-reserved: nobody wants the goods any more, so it is REFUND_REQUIRED
 * at once. Only a hold that *expired* is re-reserved for a late payment (the shopper still
 * wants what they paid for).
 */
import { type ActivityFailure, patched } from '@temporalio/workflow';
import { PaymentState, type OrderPayment, type Settlement } from '../domain/payments';
import type { OrderRequest, Payment, ReserveOutcome } from '../domain/types';
import { confirmPayment, isFinal, metrics, reserve, settlePayment } from './activities-proxy';

/**
 * Patch ids of the settlement (CONTRIBUTING.md "Changing workflow code"); it runs inside the order and
 * late-payment workflows, so each guards a change to both command sequences.
 */
export const SettlePatch = {
  /** A payment for a cancelled order is refunded, not re-reserved. */
  CANCELLED_REFUNDS: 'settle-cancelled-refunds',
} as const;

export function lateReservationId(orderId: string): string {
  return `${orderId}:late`;
}

/** What settling needs to know of the order. */
export type SettleOrder = Pick<
  OrderRequest,
  'orderId' | 'userId' | 'lines' | 'allocation' | 'campaignId' | 'amountCents'
>;

export interface SettleOptions {
  readonly ttlSeconds: number;
  /** Set when the order never held stock (its reserve was refused): nothing to sell. */
  readonly refusedBecause?: string;
  /** Set when the order's hold was released because it was cancelled: nothing to sell either. */
  readonly cancelled?: boolean;
}

export async function settleOrderPayment(
  order: SettleOrder,
  payment: Payment,
  { ttlSeconds, refusedBecause, cancelled }: SettleOptions,
): Promise<Settlement> {
  const paid: OrderPayment = { ...payment, orderId: order.orderId };
  const settled = (s: Settlement) => {
    metrics.paymentSettled(s.state);
    return s;
  };
  const own = await confirmPayment(order.orderId, paid);
  if (own) return settled(own);
  if (refusedBecause) return settled(await refund(paid, `the order was refused (${refusedBecause}); nothing was held`));
  if (cancelled && patched(SettlePatch.CANCELLED_REFUNDS))
    return settled(await refund(paid, 'the order was cancelled; nothing is sold for it'));

  const expiresAt = new Date(Date.now() + ttlSeconds * 1000).toISOString();
  const attempts: { reservationId: string; campaignId?: string }[] = order.campaignId
    ? [
        { reservationId: lateReservationId(order.orderId), campaignId: order.campaignId },
        { reservationId: `${order.orderId}:late-stock` },
      ]
    : [{ reservationId: lateReservationId(order.orderId) }];
  let why = 'the hold was released';
  for (const attempt of attempts) {
    let held: ReserveOutcome;
    try {
      held = await reserve({ ...order, ...attempt, campaignId: attempt.campaignId, expiresAt });
    } catch (err) {
      // A refusal the table marks final (e.g. the campaign is gone) is a refusal, not a
      // reason to leave the payment unsettled: the next attempt, or the refund, follows.
      if (!isFinal(err)) throw err;
      why = (err as ActivityFailure).cause?.message ?? 'refused';
      continue;
    }
    if (held.status === 'reserved') {
      const late = await confirmPayment(attempt.reservationId, paid);
      if (late) return settled(late);
      why = 'the hold was released';
    } else {
      why = held.reason;
    }
  }
  return settled(await refund(paid, `late payment: stock could not be re-reserved (${why})`));
}

/** Records the refund; a concurrent settlement (the backstop's) may have won: what stands is returned. */
function refund(paid: OrderPayment, reason: string): Promise<Settlement> {
  return settlePayment(paid, { state: PaymentState.REFUND_REQUIRED, reason });
}
