/** Issue 19 item 1: which holds may be extended, and by how much (domain/hold-extensions.ts, pure). */
import { extensionRefusal, type ExtendableHold } from '../../domain/hold-extensions';

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
