/**
 * A pre-sale's fulfilment (id `pre-sale-fulfilment-<campaignId>`): receive the goods and
 * allocate them to the paid backorders first-paid-first-served in one transaction, then tell
 * each waiting order saga how it ended (CONFIRMED, or REFUND_REQUIRED for the shortfall).
 * A backorder may be a late payment's re-reserve (`<orderId>:late`): the saga to tell is the
 * order's. A signal that is lost all the same is made up for by the saga's own check of
 * PostgreSQL while it waits (workflows/order-saga.ts STORED_CHECK_MS).
 */
import { getExternalWorkflowHandle } from '@temporalio/workflow';
import { fulfilPreSale } from './activities-proxy';
import { orderIdOfReservation, orderWorkflowId } from './ids';
import { backorderSettledSignal, type FulfilmentInput } from './messages';

export async function preSaleFulfilmentWorkflow(input: FulfilmentInput) {
  const result = await fulfilPreSale(input.campaignId, input.idempotencyKey, input.quantity);
  const tell = async (reservationId: string, status: 'CONFIRMED' | 'REFUND_REQUIRED') => {
    // The saga may have ended already (e.g. settled by a late-payment workflow): nothing to tell.
    await getExternalWorkflowHandle(orderWorkflowId(orderIdOfReservation(reservationId)))
      .signal(backorderSettledSignal, { status })
      .catch(() => undefined);
  };
  await Promise.all([
    ...result.allocated.map((id) => tell(id, 'CONFIRMED')),
    ...result.refundRequired.map((id) => tell(id, 'REFUND_REQUIRED')),
  ]);
  return result;
}
