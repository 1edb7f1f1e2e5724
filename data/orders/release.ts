/**
 * The Cancel step of TCC: held stock goes back (to its levels, or to its campaign's pool),
 * fenced once per reservation; the fence is what forbids a late reserve afterwards.
 */
import {
  Operation,
  ReservationStatus,
  type ReleaseOutcome,
  type ReleaseReason,
  type ReserveOutcome,
} from '../../domain/types';
import { returnCampaignHold } from '../campaigns/campaigns';
import { currentActor, inKeyLockedTx, readFence, skusCommitted, writeFence, type Db, type Tx } from '../db';
import { mariadbOf } from '../mariadb/db';
import { releaseOnMariadb } from '../mariadb/holds';
import { releaseLevelHolds } from '../stock/levels';
import { lockReservation } from './reservations';

/**
 * Gives held stock back. Recorded even when there is nothing to release (the reserve never
 * happened: an "empty rollback"), which is what forbids a late reserve afterwards.
 */
export async function releaseStock(db: Db, reservationId: string, reason: ReleaseReason): Promise<ReleaseOutcome> {
  const maria = mariadbOf(db);
  const outcome = maria
    ? await releaseOnMariadb(maria, reservationId, reason, currentActor())
    : await inKeyLockedTx(db, reservationId, (tx) => releaseInTx(tx, reservationId, reason));
  // After the MariaDB commit, as inKeyLockedTx does for PostgreSQL: drop the cache entries it made stale.
  if (maria && outcome.status === 'released')
    await skusCommitted(
      db,
      outcome.lines.map((l) => l.sku),
    );
  // Stamped after the commit: when the release happened, whatever it waited for before. (A
  // repeat whose first answer was lost is stamped at the repeat, just after the real commit.)
  return outcome.status === 'released' ? { ...outcome, releasedAt: new Date().toISOString() } : outcome;
}

/** The release step inside a caller's transaction (which holds the serial's advisory lock). */
export async function releaseInTx(tx: Tx, reservationId: string, reason: ReleaseReason): Promise<ReleaseOutcome> {
  const first = await readFence<ReleaseOutcome>(tx, reservationId, Operation.RELEASE);
  if (first) return first;
  const record = async (outcome: ReleaseOutcome) => {
    await writeFence(tx, reservationId, Operation.RELEASE, outcome);
    return outcome;
  };
  // Nothing held: the reserve is fenced off too. The hold batch takes no serial lock (its
  // RESERVE fence is its claim), so this INSERT is what orders us with a batch holding this
  // serial right now: it waits for that commit, and then the hold is there to release.
  let held = await lockReservation(tx, reservationId);
  if (!held && !(await fenceOffReserve(tx, reservationId))) held = await lockReservation(tx, reservationId);
  if (!held) return record({ status: 'released_empty' });
  // Paid (confirmed, or a pre-order's backorder): payment won the race.
  if (held.status !== ReservationStatus.RESERVED) return record({ status: 'already_confirmed' });
  // An extension is PostgreSQL's to decide: a hold extended (data/orders/extend.ts) whose saga
  // has not heard of it yet is not released as expired, and nothing is fenced. A hold never
  // extended expires on its saga's timer, as it always did.
  if (reason === 'EXPIRED') {
    const [live] = await tx.$queryRaw<{ expires_at: Date }[]>`
      SELECT expires_at FROM reservations WHERE id = ${reservationId} AND extension_count > 0 AND expires_at > now()`;
    if (live) return { status: 'not_expired', expiresAt: live.expires_at.toISOString() };
  }
  await tx.$executeRaw`
    UPDATE reservations SET status = ${ReservationStatus.RELEASED}, release_reason = ${reason}, updated_at = now() WHERE id = ${reservationId}`;
  const outcome = await record({ status: 'released', lines: held.lines });
  // The hot rows last (a campaign's pool, or the levels): locked for their updates only.
  if (held.campaignId) {
    // A campaign hold lives inside the campaign's pool: it goes back there.
    for (const line of held.lines) await returnCampaignHold(tx, reservationId, held.campaignId, held.userId, line);
  } else {
    await releaseLevelHolds(tx, reservationId, held.lines);
  }
  return outcome;
}

/** Records the serial's reserve as refused (ALREADY_RELEASED) unless one is recorded; false when one was. */
async function fenceOffReserve(tx: Tx, serial: string): Promise<boolean> {
  const refused: ReserveOutcome = { status: 'rejected', reason: 'ALREADY_RELEASED' };
  const inserted = await tx.$executeRaw`
    INSERT INTO operation_fences (serial, operation, outcome) VALUES (${serial}, ${Operation.RESERVE}, ${JSON.stringify(refused)}::jsonb)
    ON CONFLICT (serial, operation) DO NOTHING`;
  return inserted === 1;
}
