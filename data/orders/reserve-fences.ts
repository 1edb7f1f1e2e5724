/**
 * The reserve step's fence preamble, one rule for every hold path (reservations.ts for
 * level holds, hold.ts for campaign holds): read both fences of the serial in one round trip
 * and say what they allow.
 */
import { Operation, type ReserveOutcome } from '../../domain/types';
import { readFences, type Tx } from '../db';

export type ReserveFences =
  /** A reserve was recorded: its outcome stands, and a retry gets it back unchanged. */
  | { readonly kind: 'recorded'; readonly outcome: ReserveOutcome }
  /**
   * A release was recorded first (a cancel or a timeout overtook a slow reserve): the hold is
   * forbidden, since taking it now would leave a "hanging" hold nobody will ever release.
   * The caller records the refusal (ALREADY_RELEASED) under its own reserve fence.
   */
  | { readonly kind: 'released-first' }
  /** Neither: the hold may be taken. */
  | { readonly kind: 'open' };

/** Call under the serial's lock (inKeyLockedTx), before anything of the hold is written. */
export async function reserveFences(tx: Tx, serial: string): Promise<ReserveFences> {
  const fences = await readFences<ReserveOutcome>(tx, serial, [Operation.RESERVE, Operation.RELEASE]);
  const outcome = fences.get(Operation.RESERVE);
  if (outcome) return { kind: 'recorded', outcome };
  return fences.has(Operation.RELEASE) ? { kind: 'released-first' } : { kind: 'open' };
}
