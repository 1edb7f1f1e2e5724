/**
 * Reading and cancelling orders. The saga answers while it can: a query with a short deadline
 * (ORDER_QUERY_TIMEOUT_MS). PostgreSQL answers when it cannot — no saga in Temporal (not
 * started yet, refused on the request path, deleted by retention), or none that answers in
 * time (the worker starved or gone, Temporal unreachable): it holds the order, its hold and its
 * payments, so a read never fails because the worker is slow. Each answer says which source
 * gave it. Placing an order is the request path (hold-order.ts).
 *
 * An order is its placing key's: another key without scope `admin` gets 404, as if it did
 * not exist. A cancel is fenced: a retry gets the first answer.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Db } from '../data/db';
import {
  orderFromDatabase,
  orderPlacedBy,
  readCancel,
  recordCancel,
  type CancelRecord,
} from '../data/orders/order-view';
import { Scope, type Principal } from '../domain/api-keys';
import { DomainError, ErrorCode } from '../domain/errors';
import { signalOrderSaga } from './order-sagas';
import { withWorkflowDeadline } from '../platform/workflow-deadline';
import { orderWorkflowId } from '../workflows/ids';
import { wasCancelled, type OrderState } from '../domain/order-saga';
import { cancelSignal, statusQuery } from '../workflows/messages';

/** Where GET /orders/:id and the cancel read the order. */
export interface OrderReads {
  readonly temporal: Client;
  readonly db: Db;
  /** How long the saga gets to answer before PostgreSQL does (ORDER_QUERY_TIMEOUT_MS). */
  readonly queryTimeoutMs: number;
  /** Told why PostgreSQL answered for a saga that exists or may (a timeout, Temporal down). */
  readonly onFallback?: (orderId: string, cause: string) => void;
}

/** Which source answered: the saga itself, or PostgreSQL. */
export type OrderSource = 'saga' | 'database';

export interface OrderRead {
  readonly state: OrderState;
  readonly source: OrderSource;
}

/** 404 for another key's order (a key with scope `admin` reads every order). */
export async function assertOwnOrder(db: Db, orderId: string, caller: Principal | undefined): Promise<void> {
  if (!caller || caller.scopes.has(Scope.ADMIN)) return;
  const owner = await orderPlacedBy(db, orderId);
  if (owner !== undefined && owner !== caller.keyId) throw notFound(orderId);
}

const notFound = (orderId: string) => new DomainError(ErrorCode.ORDER_NOT_FOUND, `no order ${orderId}`);

/** The order's state, from its saga when it answers within the deadline, else from PostgreSQL. */
export async function readOrder(deps: OrderReads, orderId: string): Promise<OrderRead> {
  const saga = await querySaga(deps, orderId);
  if ('state' in saga) return { state: saga.state, source: 'saga' };
  if (saga.cause) deps.onFallback?.(orderId, saga.cause);
  const state = await orderFromDatabase(deps.db, orderId);
  if (!state) throw notFound(orderId);
  return { state, source: 'database' };
}

/**
 * The status query within the deadline (platform/workflow-deadline.ts). `cause` is set when a saga
 * may exist but did not answer; absent when Temporal has none.
 */
async function querySaga(deps: OrderReads, orderId: string): Promise<{ state: OrderState } | { cause?: string }> {
  const handle = deps.temporal.workflow.getHandle(orderWorkflowId(orderId));
  try {
    return {
      state: await withWorkflowDeadline(deps.temporal, deps.queryTimeoutMs, `the saga of order ${orderId}`, () =>
        handle.query(statusQuery),
      ),
    };
  } catch (err) {
    // Past the deadline, Temporal unreachable, a query the worker failed: PostgreSQL knows.
    return err instanceof WorkflowNotFoundError ? {} : { cause: String(err).slice(0, 200) };
  }
}

/**
 * Cancels an order still waiting for payment; a paid or ended order cannot be (409). Accepted
 * once and fenced: a retry — even after the saga released the hold, or after a payment
 * overtook the cancel — gets the first answer. The fence is written after the saga has the
 * signal, so a cancel that failed half-way is sent again by its retry.
 */
export async function cancelOrder(
  deps: OrderReads & { readonly taskQueue: string; readonly waitTimeoutMs: number },
  orderId: string,
  reason: string,
): Promise<CancelRecord> {
  const first = await readCancel(deps.db, orderId);
  if (first) return first;
  const { state } = await readOrder(deps, orderId);
  const cancel: CancelRecord = { orderId, status: 'CANCELLING', reason, requestedAt: new Date().toISOString() };
  // Cancelled already (this cancel's answer lost before its fence, or another): the same answer.
  if (wasCancelled(state.releaseReason)) return recordCancel(deps.db, cancel);
  if (state.status !== 'AWAITING_PAYMENT' && state.status !== 'RESERVING') {
    throw new DomainError(ErrorCode.NOT_CANCELLABLE, `order ${orderId} is ${state.status}`, { status: state.status });
  }
  // A saga whose start is still on its way is started with the cancel. Temporal unreachable or
  // slow past WORKFLOW_WAIT_TIMEOUT_MS: 503 / 504 and nothing recorded (a cancel needs the saga:
  // repeat it, it is idempotent). Not the read's short ORDER_QUERY_TIMEOUT_MS: a read has
  // PostgreSQL to fall back on, a cancel has not.
  const signalled = await withWorkflowDeadline(
    deps.temporal,
    deps.waitTimeoutMs,
    `the cancel of order ${orderId}`,
    () => signalOrderSaga(deps.temporal, deps.db, deps.taskQueue, orderId, cancelSignal, [{ reason }]),
  );
  if (signalled === 'ended') {
    throw new DomainError(ErrorCode.NOT_CANCELLABLE, `order ${orderId} has just ended`);
  }
  return recordCancel(deps.db, cancel);
}

/** Why an accepted cancel did not cancel the order; undefined while it may still, or when it did. */
export type CancelIgnoredReason = 'PAID' | 'EXPIRED' | 'REJECTED';

/**
 * An accepted cancel (202) the order's ending did not follow: a payment settled before the
 * cancel reached the saga made the sale, or left a refund due for another reason (PAID); the
 * hold had expired and was released first (EXPIRED); the reserve was refused (REJECTED).
 * Undefined while the saga may still act on it, and when the order was cancelled. Read from the
 * cancel's fence and the state, whichever source gave the state.
 */
export function cancelIgnored(state: OrderState, cancel: CancelRecord | undefined): CancelIgnoredReason | undefined {
  if (!cancel || wasCancelled(state.releaseReason)) return undefined;
  switch (state.status) {
    case 'REJECTED':
      return 'REJECTED';
    case 'CONFIRMED':
    case 'BACKORDERED':
      return 'PAID';
    case 'RELEASED':
      return 'EXPIRED';
    case 'REFUND_REQUIRED':
      return state.releaseReason ? 'EXPIRED' : 'PAID';
    default:
      return undefined;
  }
}
