/**
 * One order, one workflow (id `order-<orderId>`), read as its story: hold the stock (adopt the
 * hold the request path committed, or reserve it) → wait for payment, bounded by the hold's
 * TTL → sold, or the hold released on timeout or cancel → finish with every payment settled.
 * Temporal's durable timers and retries are the transaction coordinator: whatever crashes,
 * the saga resumes and closes.
 *
 * The shape is the Temporal order reference app's `setup → run`: `OrderSaga.setup` sets the
 * handlers (order-handlers.ts) and the steps live in the state machine beside this file
 * (order-saga.ts, with the patch ids that keep recorded histories replaying).
 */
import { OrderStatus, type OrderState, type OrderWorkflowInput } from '../domain/order-saga';
import { OrderSaga } from './order-saga';

export async function orderWorkflow(input: OrderWorkflowInput): Promise<OrderState> {
  // setup: the handlers, before any await (the update that came with the start must find them).
  const saga = OrderSaga.setup(input);

  // run: hold the stock. The request path usually held it already, committed with this saga's
  // outbox row; a saga started without a hold reserves within its deadline, or compensates.
  const holds = input.reservation ? saga.adoptHold(input.reservation) : await saga.reserveHold();
  if (!holds) return saga.finish(OrderStatus.REJECTED);

  // Wait for the payment, settling each as it arrives, until one decides the order (a sale,
  // or a pre-order the goods could not cover), the order is cancelled, or the hold expires.
  await saga.awaitPayment();

  // Sold: confirmed. Otherwise the hold goes back (a release that finds it confirmed was paid
  // by another path); a payment that came with a cancel is refunded by finish.
  if (saga.sold()) return saga.finish(OrderStatus.CONFIRMED);
  return saga.finish(await saga.releaseHold());
}
