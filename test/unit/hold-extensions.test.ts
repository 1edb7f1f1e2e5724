/** Issue 19 item 1: which holds may be extended, and by how much (domain/hold-extensions.ts, pure). */
import {
  extensionRefusal,
  pendingPaymentAnswer,
  pendingPaymentExtension,
  redeliveredPendingEvent,
  type ExtendableHold,
} from '../../domain/hold-extensions';

const caps = { maxSeconds: 300, maxTotalSeconds: 600, maxCount: 3 };
const waiting: ExtendableHold = {
  status: 'RESERVED',
  live: true,
  releaseReason: null,
  extensionCount: 0,
  extendedSeconds: 0,
  campaignKind: null,
  campaignAllowsExtension: false,
};

it('a live hold awaiting payment may be extended within the caps', () => {
  expect(extensionRefusal(waiting, 300, caps)).toBeUndefined();
});

it.each([
  ['a pre-order', { campaignKind: 'PRE_SALE', campaignAllowsExtension: true }, 60, 'NOT_EXTENDABLE'],
  ['a flash-sale order by default (fairness)', { campaignKind: 'FLASH_SALE' }, 60, 'NOT_EXTENDABLE'],
  ['a paid order', { status: 'CONFIRMED' }, 60, 'NOT_EXTENDABLE'],
  ['a cancelled order', { status: 'RELEASED', releaseReason: 'CANCELLED' }, 60, 'NOT_EXTENDABLE'],
  ['a hold released as expired', { status: 'RELEASED', releaseReason: 'EXPIRED' }, 60, 'HOLD_EXPIRED'],
  ['a hold past its expiry in PostgreSQL', { live: false }, 60, 'HOLD_EXPIRED'],
  ['more seconds than one extension may add', {}, 301, 'EXTENSION_LIMIT_REACHED'],
  ['one extension too many', { extensionCount: 3, extendedSeconds: 30 }, 10, 'EXTENSION_LIMIT_REACHED'],
  [
    'more seconds than all extensions may add',
    { extensionCount: 2, extendedSeconds: 500 },
    101,
    'EXTENSION_LIMIT_REACHED',
  ],
] as const)('refused: %s', (_what, change, seconds, code) => {
  expect(extensionRefusal({ ...waiting, ...change }, seconds, caps)?.code).toBe(code);
});

it('a flash sale that allows it (allowHoldExtension) may be extended', () => {
  expect(
    extensionRefusal({ ...waiting, campaignKind: 'FLASH_SALE', campaignAllowsExtension: true }, 60, caps),
  ).toBeUndefined();
});

describe('a payment.pending event (both stores share these rules)', () => {
  const p = { orderId: 'o-1', paymentId: 'pay-1', amountCents: 500 };
  const stored = {
    order_id: 'o-1',
    payment_id: 'pay-1',
    amount_cents: 500,
    type: 'payment.pending',
    answer: 'EXTENDED',
  };

  it('asks for one extension per payment', () => {
    expect(pendingPaymentExtension(p, 120)).toEqual({
      orderId: 'o-1',
      extensionId: 'payment-pending:pay-1',
      seconds: 120,
      reason: 'payment pay-1 pending',
      source: 'PAYMENT_PENDING',
    });
  });

  it('answers EXTENDED, the refusal code, or NO_HOLD', () => {
    const base = { orderId: 'o-1', extensionId: 'x', extensionCount: 1, extendedSeconds: 60 };
    expect(pendingPaymentAnswer({ ...base, status: 'EXTENDED', expiresAt: '2026-01-01T00:00:00.000Z' })).toBe(
      'EXTENDED',
    );
    expect(pendingPaymentAnswer({ ...base, status: 'REFUSED', code: 'HOLD_EXPIRED', message: 'gone' })).toBe(
      'HOLD_EXPIRED',
    );
    expect(pendingPaymentAnswer(undefined)).toBe('NO_HOLD');
  });

  it('a redelivered event gets its first answer; its id with other content is a conflict', () => {
    expect(redeliveredPendingEvent('ev-1', stored, p)).toEqual({ kind: 'duplicate', answer: 'EXTENDED' });
    expect(redeliveredPendingEvent('ev-1', { ...stored, answer: null }, p)).toEqual({
      kind: 'duplicate',
      answer: 'RECEIVED',
    });
    for (const other of [
      { amount_cents: 501 },
      { payment_id: 'pay-2' },
      { order_id: 'o-2' },
      { type: 'payment.succeeded' },
    ]) {
      expect(redeliveredPendingEvent('ev-1', { ...stored, ...other }, p)).toEqual({
        kind: 'conflict',
        message: 'event ev-1 was delivered with other content',
      });
    }
  });
});
