/** The order saga's pure rules (domain/order-saga.ts): which settlement decides, sells, and how the saga ends. */
import { decidesOrder, madeSale, orderEnding, OrderStatus } from '../../domain/order-saga';
import { PaymentState, type Settlement } from '../../domain/payments';

const settled = (state: Settlement['state'], reason?: string): Settlement => ({ state, ...(reason ? { reason } : {}) });

describe('order saga rules', () => {
  it('a wrong amount or a second charge neither decides the order nor sells; every other settlement decides it', () => {
    for (const s of [PaymentState.AMOUNT_MISMATCH, PaymentState.DUPLICATE_CHARGE])
      expect([decidesOrder(settled(s)), madeSale(settled(s))]).toEqual([false, false]);
    expect([decidesOrder(settled('REFUND_REQUIRED')), madeSale(settled('REFUND_REQUIRED'))]).toEqual([true, false]);
    for (const s of [PaymentState.CONFIRMED, PaymentState.BACKORDERED])
      expect([decidesOrder(settled(s)), madeSale(settled(s))]).toEqual([true, true]);
  });

  it('ends CONFIRMED on a sale, whatever else was refunded; a backorder as its goods decided', () => {
    expect(
      orderEnding([settled('AMOUNT_MISMATCH', 'wrong'), settled('CONFIRMED')], undefined, OrderStatus.RELEASED),
    ).toEqual({ status: 'CONFIRMED' });
    expect(orderEnding([settled('BACKORDERED')], 'CONFIRMED', OrderStatus.CONFIRMED)).toEqual({ status: 'CONFIRMED' });
    expect(orderEnding([settled('BACKORDERED')], 'REFUND_REQUIRED', OrderStatus.CONFIRMED)).toEqual({
      status: 'REFUND_REQUIRED',
      refundReason: 'the pre-sale goods received could not cover this order',
    });
  });

  it('ends REFUND_REQUIRED with the refund reason when no sale was made, else as the hold ended', () => {
    expect(
      orderEnding([settled('REFUND_REQUIRED', 'the order was cancelled')], undefined, OrderStatus.RELEASED),
    ).toEqual({
      status: 'REFUND_REQUIRED',
      refundReason: 'the order was cancelled',
    });
    expect(orderEnding([], undefined, OrderStatus.RELEASED)).toEqual({ status: 'RELEASED' });
    expect(orderEnding([], undefined, OrderStatus.REJECTED)).toEqual({ status: 'REJECTED' });
  });
});
