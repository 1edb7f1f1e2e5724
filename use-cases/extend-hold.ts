/**
 * Extending a hold still waiting for its payment (issue 19 item 1), as its story: PostgreSQL
 * decides (data/orders/extend.ts: one guarded UPDATE under the extension's fence), then the
 * saga is told the new expiry so its timer, search attribute and state follow. A repeat of the
 * extension id gets the first answer and tells the saga again (the first telling may have
 * been lost with its answer); a saga whose start is still on its way is started with it.
 */
import type { Client } from '@temporalio/client';
import type { Db } from '../data/db';
import { extendHold as recordExtension } from '../data/orders/extend';
import { acceptPendingPayment, type PendingOutcome } from '../data/payments/payment-deliveries';
import type { ExtensionOutcome, ExtensionRequest, HoldExtensionCaps } from '../domain/hold-extensions';
import type { OrderPayment } from '../domain/payments';
import { holdExtendedSignal } from '../workflows/messages';
import { signalOrderSaga } from './order-sagas';

/** What extending a hold needs. */
export interface ExtendHoldDeps {
  readonly db: Db;
  readonly temporal: Client;
  readonly taskQueue: string;
  readonly caps: HoldExtensionCaps;
}

/** Extends the hold once per extension id; the outcome is the answer (EXTENDED, or REFUSED with its code). */
export async function extendHold(deps: ExtendHoldDeps, req: ExtensionRequest): Promise<ExtensionOutcome> {
  const { outcome } = await recordExtension(deps.db, req, deps.caps);
  if (outcome.status === 'EXTENDED') await tellSaga(deps, outcome);
  return outcome;
}

/**
 * A `payment.pending` webhook: the hold is extended by `seconds` (once per payment), the event
 * stored with its answer; then the saga is told. A saga that cannot be told now still has
 * PostgreSQL's word: the hold's expiry there is what the sweeper reads.
 */
export async function receivePendingPayment(
  deps: ExtendHoldDeps,
  payment: OrderPayment,
  seconds: number,
): Promise<PendingOutcome> {
  const outcome = await acceptPendingPayment(deps.db, payment, seconds, deps.caps);
  if (outcome.kind === 'accepted' && outcome.extension?.status === 'EXTENDED') await tellSaga(deps, outcome.extension);
  return outcome;
}

/** The saga follows the new expiry; one that has ended ('ended') has nothing to follow. */
async function tellSaga(
  deps: ExtendHoldDeps,
  extended: Extract<ExtensionOutcome, { status: 'EXTENDED' }>,
): Promise<void> {
  await signalOrderSaga(deps.temporal, deps.db, deps.taskQueue, extended.orderId, holdExtendedSignal, [
    { extensionId: extended.extensionId, expiresAt: extended.expiresAt },
  ]);
}
