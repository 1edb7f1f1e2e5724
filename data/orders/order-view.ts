/**
 * An order as PostgreSQL knows it, for when Temporal has no saga to ask: the saga has not
 * started yet (its hold committed a moment ago), the order was refused on the request path
 * (no saga at all), or retention deleted the saga's history. Same shape as the saga's state.
 */
import { PaymentState, refundStates } from '../../domain/payments';
import { Operation, type ReserveOutcome } from '../../domain/types';
import type { OrderState } from '../../domain/order-saga';
import type { Db } from '../db';
import { inKeyLockedTx, readFence, readFences, writeFence } from '../db';
import { mariadbOf } from '../mariadb/db';
import {
  fenceOnceOnMariadb,
  holdOfOrderOnMariadb,
  readFencesOnMariadb,
  reserveActorOnMariadb,
} from '../mariadb/orders';
import { readPayments, type PaymentRecord } from '../payments/payments';
import { sagaInput } from './saga-starts';

const fromHold: Record<string, OrderState['status']> = {
  RESERVED: 'AWAITING_PAYMENT',
  CONFIRMED: 'CONFIRMED',
  BACKORDERED: 'BACKORDERED',
  REFUND_REQUIRED: 'REFUND_REQUIRED',
  RELEASED: 'RELEASED',
};

export async function orderFromDatabase(db: Db, orderId: string): Promise<OrderState | undefined> {
  const maria = mariadbOf(db);
  const [hold, input, fences, payments] = await Promise.all([
    maria
      ? holdOfOrderOnMariadb(maria, orderId)
      : db.reservation.findUnique({
          where: { id: orderId },
          select: { status: true, userId: true, expiresAt: true, releaseReason: true, updatedAt: true },
        }),
    sagaInput(db, orderId),
    fencesOf<ReserveOutcome>(db, orderId, [Operation.RESERVE]),
    readPayments(db, orderId),
  ]);
  const reservation = fences.get(Operation.RESERVE);
  if (!hold && !reservation) return undefined;
  const order = input?.order;
  const confirmed = payments.find((p) => p.state === PaymentState.CONFIRMED);
  const refund = payments.find((p) => refundStates.includes(p.state));
  const state: OrderState = {
    orderId,
    userId: order?.userId ?? hold?.userId ?? '',
    lines: order?.lines ?? [],
    allocation: order?.allocation,
    status: hold ? fromHold[hold.status] : 'REJECTED',
    reservation,
    expiresAt: hold?.expiresAt.toISOString(),
    ...(hold?.status === 'RELEASED'
      ? { releaseReason: hold.releaseReason as OrderState['releaseReason'], releasedAt: hold.updatedAt.toISOString() }
      : {}),
    ...(confirmed
      ? { payment: { eventId: confirmed.eventId, paymentId: confirmed.paymentId, amountCents: confirmed.amountCents } }
      : {}),
    ...(hold?.status === 'REFUND_REQUIRED' && refund?.reason ? { refundReason: refund.reason } : {}),
    extraPayments: payments
      .filter((p) => refundStates.includes(p.state))
      .map((p) => ({ paymentId: p.paymentId, amountCents: p.amountCents })),
    payments: payments
      .filter((p) => p.state !== PaymentState.PENDING)
      .map((p) => ({
        paymentId: p.paymentId,
        amountCents: p.amountCents,
        state: p.state,
        ...(p.reason ? { reason: p.reason } : {}),
      })),
  };
  // How a late payment ended it (withLateSettlements) is the reader's to add: GET /orders/:id
  // applies it to this state and to the saga's alike.
  return state;
}

/**
 * The end of the story. A saga that ended RELEASED or REJECTED may be paid afterwards, its
 * payment settled by a late-payment workflow the saga never hears of: the order then reads as
 * that settlement left it — CONFIRMED when a unit was sold for the payment (`lateConfirmed`),
 * REFUND_REQUIRED (with `refundReason`) when the money must go back. `releaseReason` and
 * `releasedAt` still tell what came before. A saga still BACKORDERED whose backorder PostgreSQL
 * settled reads as settled too. Any other status stands: the saga settled those.
 */
export function withLateSettlements(state: OrderState, payments: readonly PaymentRecord[]): OrderState {
  // A saga still BACKORDERED whose payment the fulfilment already settled has not heard yet
  // (it will: the signal, its own check of PostgreSQL, or reconciliation): PostgreSQL's word stands.
  const backorderSettled =
    state.status === 'BACKORDERED' && !payments.some((p) => p.state === PaymentState.BACKORDERED);
  if (state.status !== 'RELEASED' && state.status !== 'REJECTED' && !backorderSettled) return state;
  const confirmed = payments.find((p) => p.state === PaymentState.CONFIRMED);
  const refund = payments.find((p) => refundStates.includes(p.state));
  const refunds = payments
    .filter((p) => refundStates.includes(p.state))
    .map((p) => ({ paymentId: p.paymentId, amountCents: p.amountCents }));
  if (confirmed) {
    const payment = { eventId: confirmed.eventId, paymentId: confirmed.paymentId, amountCents: confirmed.amountCents };
    return {
      ...state,
      status: 'CONFIRMED',
      payment,
      extraPayments: refunds,
      ...(confirmed.reservationId !== state.orderId ? { lateConfirmed: true } : {}),
    };
  }
  if (refund)
    return {
      ...state,
      status: 'REFUND_REQUIRED',
      refundReason: refund.reason ?? state.refundReason,
      extraPayments: refunds,
    };
  return state;
}

/** The recorded outcomes of several operations of one serial, on either store. */
function fencesOf<T>(db: Db, serial: string, operations: readonly Operation[]): Promise<Map<string, T>> {
  const maria = mariadbOf(db);
  return maria ? readFencesOnMariadb<T>(maria, serial, operations) : readFences<T>(db, serial, operations);
}

/** The answer a cancel got (202 CANCELLING), fenced by (orderId, CANCEL). */
export interface CancelRecord {
  readonly orderId: string;
  readonly status: 'CANCELLING';
  readonly reason: string;
  readonly requestedAt: string;
}

/** The first accepted cancel of the order, if any. */
export async function readCancel(db: Db, orderId: string): Promise<CancelRecord | undefined> {
  return (await fencesOf<CancelRecord>(db, orderId, [Operation.CANCEL])).get(Operation.CANCEL);
}

/**
 * Records an accepted cancel once; a second (a retry, or two at once) gets the first record.
 * Under the order's serial lock, like every step of the order, for the moment of the insert.
 */
export async function recordCancel(db: Db, cancel: CancelRecord): Promise<CancelRecord> {
  const maria = mariadbOf(db);
  if (maria) return fenceOnceOnMariadb(maria, cancel.orderId, Operation.CANCEL, cancel);
  return inKeyLockedTx(db, cancel.orderId, async (tx) => {
    const first = await readFence<CancelRecord>(tx, cancel.orderId, Operation.CANCEL);
    if (first) return first;
    await writeFence(tx, cancel.orderId, Operation.CANCEL, cancel);
    return cancel;
  });
}

/**
 * The key that placed the order: recorded in its saga's input (the outbox row committed with
 * the hold), or, for orders placed before it was, the actor of the hold's ledger row. Undefined
 * when neither says: a refused order holds nothing, and a saga that reserved by itself acts as
 * the system.
 */
export async function orderPlacedBy(db: Db, orderId: string): Promise<string | undefined> {
  const placedBy = (await sagaInput(db, orderId))?.placedBy;
  if (placedBy) return placedBy;
  const maria = mariadbOf(db);
  if (maria) return reserveActorOnMariadb(maria, orderId);
  const row = await db.stockMovement.findFirst({
    where: { reference: orderId, reason: 'RESERVE' },
    orderBy: { id: 'asc' },
    select: { actor: true },
  });
  return row?.actor ?? undefined;
}
