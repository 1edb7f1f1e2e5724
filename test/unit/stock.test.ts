/** Pure stock rules: lot dates and states, FEFO picking, adjustment directions. */
import { adjustmentAllowed, lotDates, lotState, pickFefo } from '../../domain/stock';

const day = 86_400_000;
const t0 = new Date('2026-11-25T00:00:00Z');
const at = (days: number) => new Date(t0.getTime() + days * day);

it('derives alert and removal dates from the use-by date and the product settings', () => {
  expect(lotDates(at(10), { alertDaysBeforeExpiry: 3, removalDaysBeforeExpiry: 1 })).toEqual({
    alertAt: at(7),
    removeAt: at(9),
  });
  expect(lotDates(at(10), { alertDaysBeforeExpiry: null, removalDaysBeforeExpiry: null })).toEqual({
    alertAt: at(10),
    removeAt: at(10),
  });
  expect(lotDates(null, { alertDaysBeforeExpiry: 3, removalDaysBeforeExpiry: 1 })).toEqual({
    alertAt: null,
    removeAt: null,
  });
});

it('a lot is sellable, near expiry, expired or quarantined (quarantine first)', () => {
  const lot = { quarantined: false, alertAt: at(7), removeAt: at(9) };
  expect(lotState(lot, at(6))).toBe('SELLABLE');
  expect(lotState(lot, at(7))).toBe('NEAR_EXPIRY');
  expect(lotState(lot, at(9))).toBe('EXPIRED');
  expect(lotState({ ...lot, quarantined: true }, at(1))).toBe('QUARANTINED');
});

it('FEFO takes lots in the given order, each as far as it goes', () => {
  const lots = [
    { lotCode: 'A', quantity: 2, sellable: true, expiresAt: at(1) },
    { lotCode: 'B', quantity: 5, sellable: true, expiresAt: at(3) },
    { lotCode: 'C', quantity: 5, sellable: false, expiresAt: at(0) },
  ];
  expect(pickFefo(lots, 4).map((p) => [p.lot.lotCode, p.take])).toEqual([
    ['A', 2],
    ['B', 2],
  ]);
  expect(pickFefo(lots, 9).map((p) => [p.lot.lotCode, p.take])).toEqual([
    ['A', 2],
    ['B', 5],
    ['C', 2],
  ]);
  expect(pickFefo(lots, 0)).toEqual([]);
});

it('adjustment reasons allow one direction (COUNT both), never 0', () => {
  expect(adjustmentAllowed('COUNT', -2) && adjustmentAllowed('COUNT', 2)).toBe(true);
  expect([adjustmentAllowed('DAMAGE', -1), adjustmentAllowed('DAMAGE', 1)]).toEqual([true, false]);
  expect([adjustmentAllowed('RETURN', 1), adjustmentAllowed('RETURN', -1)]).toEqual([true, false]);
  expect(adjustmentAllowed('COUNT', 0)).toBe(false);
});
