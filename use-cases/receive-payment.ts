/**
 * A signed payment arrives (the payment webhook's story): store it — the event, the payment
 * and its delivery row in one transaction, so it is a PostgreSQL fact before any saga hears
 * of it — then, after the commit, hand it to the deliverer (bounded; the worker's relay
 * delivers whatever it leaves). Whatever Temporal is doing, the answer waits for nothing but
 * the commit. A redelivered event gets its first answer and changes nothing; one seen with
 * other content is a conflict and changes nothing either.
 */
import type { OrderPayment } from '../domain/payments';
import type { Db } from '../data/db';
import { acceptPayment, type AcceptOutcome } from '../data/payments/payment-deliveries';
import type { PendingDelivery } from '../data/payments/payment-deliveries';

/** What receiving a payment needs: the database, the API's deliverer and the relay's grace. */
export interface ReceivePaymentDeps {
  readonly db: Db;
  readonly deliverer: { deliver(d: PendingDelivery): void };
  /** PAYMENT_RELAY_GRACE_MS: how long the relay leaves a fresh delivery to the deliverer. */
  readonly relayGraceMs: number;
}

/** Stores the payment, then starts its delivery if one is open; the outcome says what to answer. */
export async function receivePayment(deps: ReceivePaymentDeps, payment: OrderPayment): Promise<AcceptOutcome> {
  const outcome = await acceptPayment(deps.db, payment, deps.relayGraceMs);
  if (outcome.kind === 'accepted' && outcome.deliver)
    deps.deliverer.deliver({ ...payment, receivedAt: new Date().toISOString() });
  return outcome;
}
