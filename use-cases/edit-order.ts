/**
 * Editing an order (POST /orders/:id/edit): PostgreSQL applies the edit (the deltas, all or
 * nothing, data/orders/edit.ts), then the saga learns the new lines and amount by the
 * orderEdited signal (a saga not started yet is started with it, from its edited outbox row).
 * A signal that cannot be sent fails the call (503) after the commit: the caller's retry with
 * the same editId answers the recorded edit and sends the signal again.
 */
import type { Client } from '@temporalio/client';
import type { Db } from '../data/db';
import { editOrder, type OrderEditOutcome, type OrderEditRequest } from '../data/orders/edit';
import { orderEditedSignal } from '../workflows/messages';
import { signalOrderSaga } from './order-sagas';

export interface EditDeps {
  readonly db: Db;
  readonly temporal: Client;
  readonly taskQueue: string;
}

export async function editOrderAndTell(
  deps: EditDeps,
  edit: OrderEditRequest,
  actor?: string,
): Promise<OrderEditOutcome> {
  const outcome = await editOrder(deps.db, edit, actor);
  const { editId, version, lines, amountCents } = outcome;
  await signalOrderSaga(deps.temporal, deps.db, deps.taskQueue, edit.orderId, orderEditedSignal, [
    { editId, version, lines, ...(amountCents === null ? {} : { amountCents }) },
  ]);
  return outcome;
}
