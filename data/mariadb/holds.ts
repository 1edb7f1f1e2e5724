/**
 * Reserve, confirm and release on MySQL/MariaDB (issue 22, docs/mysql.md): the TCC core of
 * data/orders/ for InnoDB (the reserve itself, with allocation, is reserve.ts; lots and
 * payments are not here yet). Each step: the serial's lock (a slot row), its fence
 * read, the guarded statements, its fence written — one READ COMMITTED transaction.
 *
 * Lock order: the serial's slot → the levels in byte order of (SKU, warehouse) (utf8mb4_bin
 * columns: ORDER BY is byte order) → the claims (hold, then fence). Campaign holds made by
 * the batch go back to the user's count, then the pool row: the batch's order.
 */
import {
  Operation,
  ReservationStatus,
  type OrderLine,
  type ReleaseOutcome,
  type ReleaseReason,
  type ReserveOutcome,
} from '../../domain/types';
import type { Pool } from 'mariadb';
import { returnCampaignHoldOnMariadb } from './campaign-release';
import { recordInvalidations, writeMovement } from './levels';
import { inMariadbTx, lockSerial, readMariadbFence, writeMariadbFence, type MariadbTx } from './tx';

export { reserveOnMariadb, type MariadbHoldRequest } from './reserve';
// Where the other MariaDB modules have found them (campaigns, confirm-payment): now in levels.ts.
export { AVAILABLE, writeMovement } from './levels';

interface HeldRow {
  readonly status: string;
  readonly campaignId: string | null;
  readonly userId: string;
  readonly lines: OrderLine[];
}

/** The hold's row, locked, with its lines; undefined when there is none. */
async function lockHold(tx: MariadbTx, id: string): Promise<HeldRow | undefined> {
  const [row] = await tx.query<{ status: string; campaign_id: string | null; user_id: string }[]>(
    'SELECT status, campaign_id, user_id FROM reservations WHERE id = ? FOR UPDATE',
    [id],
  );
  if (!row) return undefined;
  const lines = await tx.query<OrderLine[]>(
    'SELECT sku, warehouse_code AS warehouseCode, quantity FROM reservation_lines WHERE reservation_id = ? ORDER BY sku, warehouse_code',
    [id],
  );
  return { status: row.status, campaignId: row.campaign_id, userId: row.user_id, lines: lines.map((l) => ({ ...l })) };
}

/**
 * Gives held stock back, fenced once. Nothing held: the reserve is fenced off too (an empty
 * release), so a late reserve is refused; the batch holds no slot, so that INSERT is what
 * orders this release with a batch claiming the serial right now. `actor`: the key id or
 * `system:<writer>` its ledger rows record (data/db.ts currentActor).
 */
export async function releaseOnMariadb(
  pool: Pool,
  serial: string,
  reason: ReleaseReason,
  actor?: string,
): Promise<ReleaseOutcome> {
  return inMariadbTx(pool, async (tx) => {
    await lockSerial(tx, serial);
    return releaseInMariadbTx(tx, serial, reason, actor);
  });
}

/**
 * The release inside the caller's transaction, which holds `serial`'s slot (a transfer's cancel
 * records its transfer's new status in the same commit).
 */
export async function releaseInMariadbTx(
  tx: MariadbTx,
  serial: string,
  reason: ReleaseReason,
  actor?: string,
): Promise<ReleaseOutcome> {
  const first = await readMariadbFence<ReleaseOutcome>(tx, serial, Operation.RELEASE);
  if (first) return first;
  const record = async (outcome: ReleaseOutcome) => {
    await writeMariadbFence(tx, serial, Operation.RELEASE, outcome);
    return outcome;
  };
  let held = await lockHold(tx, serial);
  const refused: ReserveOutcome = { status: 'rejected', reason: 'ALREADY_RELEASED' };
  if (!held && !(await writeMariadbFence(tx, serial, Operation.RESERVE, refused))) held = await lockHold(tx, serial);
  if (!held) return record({ status: 'released_empty' });
  if (held.status !== ReservationStatus.RESERVED) return record({ status: 'already_confirmed' });
  // An extended hold not yet due is PostgreSQL's rule too: not released as expired, nothing fenced.
  if (reason === 'EXPIRED') {
    const [live] = await tx.query<{ expires_at: Date }[]>(
      'SELECT expires_at FROM reservations WHERE id = ? AND extension_count > 0 AND expires_at > UTC_TIMESTAMP(3)',
      [serial],
    );
    if (live) return { status: 'not_expired', expiresAt: live.expires_at.toISOString() };
  }
  // A campaign hold lives in its pool (the quota is set aside in the level): the user's
  // count, then the pool — the batch's lock order — and only then the hold's row: its
  // status is in the (campaign_id, status) index the foreign key checks, so that update
  // takes a shared lock on the campaign row, which must come after the pool row's X lock
  // (a shared lock first, then X, deadlocks with a batch waiting for the row). Once its
  // flash sale has ended, the units go back to the level below, as any hold's.
  const back = held.campaignId
    ? await returnCampaignHoldOnMariadb(
        tx,
        held.campaignId,
        held.userId,
        held.lines.reduce((sum, l) => sum + l.quantity, 0),
      )
    : 'stock';
  const toLevels = back === 'pool' ? [] : held.lines;
  await tx.query(
    `UPDATE reservations SET status = 'RELEASED', release_reason = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = ?`,
    [reason, serial],
  );
  const outcome = await record({ status: 'released', lines: held.lines });
  for (const line of toLevels) {
    await tx.query(
      `UPDATE inventory_levels SET reserved = reserved - ?, version = version + 1, updated_at = UTC_TIMESTAMP(3)
        WHERE sku = ? AND warehouse_code = ?`,
      [line.quantity, line.sku, line.warehouseCode],
    );
    await writeMovement(tx, serial, 'RELEASE', line, 0, -line.quantity, actor);
  }
  await recordInvalidations(
    tx,
    toLevels.map((l) => l.sku),
  );
  return outcome;
}
