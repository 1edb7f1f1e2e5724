/**
 * The rules written once (issue 12): the transfer state machine the workflow and the API
 * share, lot sellability (FEFO and the API's lot states), and the availability shown.
 */
import { availableUnits, lotSellable, lotState, LotState, moveDeltas, sellableFirst } from '../../domain/stock';
import {
  endedTransferAnswersRepeat,
  SHIPPED_OR_LATER,
  TransferStage as S,
  transferSteps,
  transferStepVerdict,
  type TransferStep,
} from '../../domain/transfers';

describe('transfer state machine', () => {
  it('runs a step from its stage, repeats it while it runs or once it is done, refuses it elsewhere', () => {
    expect(transferStepVerdict('ship', S.REQUESTED)).toBe('run');
    expect(transferStepVerdict('ship', S.SHIPPING)).toBe('repeat');
    for (const stage of SHIPPED_OR_LATER) expect(transferStepVerdict('ship', stage)).toBe('repeat');
    expect(transferStepVerdict('ship', S.CANCELLED)).toBe('conflict');
    expect(transferStepVerdict('cancel', S.SHIPPED)).toBe('conflict');
    expect(transferStepVerdict('return', S.SHIPPED)).toBe('run');
    expect(transferStepVerdict('receive', S.RETURNED)).toBe('conflict');
  });

  it('a receive repeated with another quantity is a conflict, not a repeat', () => {
    expect(transferStepVerdict('receive', S.RECEIVED, true)).toBe('repeat');
    expect(transferStepVerdict('receive', S.RECEIVED, false)).toBe('conflict');
    // In progress, the arguments are not compared (the first call decides).
    expect(transferStepVerdict('receive', S.RECEIVING, false)).toBe('repeat');
  });

  it('an ended transfer answers a repeat only of a step it finished (as the API did before the rule moved here)', () => {
    // The stages in which the API answered a repeat on an ended workflow before: a stage of a
    // step in progress (a workflow terminated mid-step) is never one of them.
    const before: Record<TransferStep, readonly string[]> = {
      ship: [S.SHIPPED, S.RECEIVED, S.RETURNED],
      receive: [S.RECEIVED],
      cancel: [S.CANCELLED],
      return: [S.RETURNED],
    };
    for (const step of Object.keys(before) as TransferStep[]) {
      for (const stage of Object.values(S))
        expect([step, stage, endedTransferAnswersRepeat(step, stage)]).toEqual([
          step,
          stage,
          before[step].includes(stage),
        ]);
    }
    expect(endedTransferAnswersRepeat('receive', S.RECEIVED, false)).toBe(false);
  });

  it('every step runs in a stage of its own', () => {
    const during = Object.values(transferSteps).map((s) => s.during);
    expect(new Set(during).size).toBe(during.length);
  });
});

describe('lot sellability', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  const before = new Date('2026-06-01T11:59:59Z');
  const after = new Date('2026-06-01T12:00:01Z');

  it('is lost to quarantine or at the removal date (inclusive), as unsellable_quantity has it', () => {
    expect(lotSellable({ quarantined: false, removeAt: null }, now)).toBe(true);
    expect(lotSellable({ quarantined: false, removeAt: after }, now)).toBe(true);
    expect(lotSellable({ quarantined: false, removeAt: now }, now)).toBe(false);
    expect(lotSellable({ quarantined: true, removeAt: after }, now)).toBe(false);
  });

  it('agrees with the lot states the API shows', () => {
    expect(lotState({ quarantined: true, alertAt: null, removeAt: before }, now)).toBe(LotState.QUARANTINED);
    expect(lotState({ quarantined: false, alertAt: null, removeAt: before }, now)).toBe(LotState.EXPIRED);
    expect(lotState({ quarantined: false, alertAt: before, removeAt: after }, now)).toBe(LotState.NEAR_EXPIRY);
    expect(lotState({ quarantined: false, alertAt: after, removeAt: after }, now)).toBe(LotState.SELLABLE);
  });

  it('FEFO takes sellable lots first and keeps the given order within each group', () => {
    const lots = [
      { lotCode: 'A', sellable: false },
      { lotCode: 'B', sellable: true },
      { lotCode: 'C', sellable: false },
      { lotCode: 'D', sellable: true },
    ];
    expect(sellableFirst(lots).map((l) => l.lotCode)).toEqual(['B', 'D', 'A', 'C']);
  });
});

it('availability shown is the guard formula clamped at 0', () => {
  const level = { onHand: 10, reserved: 3, safetyStock: 2, damaged: 0, qualityControl: 0, unsellable: 1 };
  expect(availableUnits(level)).toBe(4);
  expect(availableUnits({ ...level, reserved: 9 })).toBe(0);
  // Damaged and quality-control units are on hand, not sellable.
  expect(availableUnits({ ...level, damaged: 2, qualityControl: 1 })).toBe(1);
});

it('a move takes units from one state to another, a write-off out of on-hand', () => {
  expect(moveDeltas('AVAILABLE', 'QUALITY_CONTROL', 2)).toEqual({ onHand: 0, damaged: 0, qualityControl: 2 });
  expect(moveDeltas('QUALITY_CONTROL', 'DAMAGED', 2)).toEqual({ onHand: 0, damaged: 2, qualityControl: -2 });
  expect(moveDeltas('DAMAGED', 'AVAILABLE', 1)).toEqual({ onHand: 0, damaged: -1, qualityControl: 0 });
  expect(moveDeltas('DAMAGED', 'WRITE_OFF', 3)).toEqual({ onHand: -3, damaged: -3, qualityControl: 0 });
  expect(moveDeltas('AVAILABLE', 'WRITE_OFF', 1)).toEqual({ onHand: -1, damaged: 0, qualityControl: 0 });
});
