/**
 * Reserve, confirm and release on MySQL/MariaDB (issue 22, docs/mysql.md): the TCC core of
 * data/orders/ for InnoDB, on named warehouses' levels (allocation, campaigns' general path,
 * lots and payments are not here yet). Each step: the serial's lock (a slot row), its fence
 * read, the guarded statements, its fence written — one READ COMMITTED transaction.
 *
 * Lock order: the serial's slot → the levels in byte order of (SKU, warehouse) (utf8mb4_bin
 * columns: ORDER BY is byte order) → the claims (hold, then fence). Campaign holds made by
 * the batch go back to the user's count, then the pool row: the batch's order.
 */
import { mergeLines } from '../../domain/lines';
import {
  Operation,
  ReservationStatus,
  type ConfirmOutcome,
  type OrderLine,
  type ReleaseOutcome,
  type ReleaseReason,
  type ReserveOutcome,
  type Shortage,
} from '../../domain/types';
import type { Pool } from 'mariadb';
import { returnCampaignHoldOnMariadb } from './campaign-release';
import { inMariadbTx, isDuplicateKey, lockSerial, readMariadbFence, writeMariadbFence, type MariadbTx } from './tx';

/** A level's availability: on hand less held, safety stock, set aside and unsellable lots (PostgreSQL's stockhold_available). */
export const AVAILABLE = `il.on_hand - il.reserved - il.safety_stock - il.damaged - il.quality_control
  - (SELECT COALESCE(SUM(l.quantity), 0) FROM stock_lots l
      WHERE l.sku = il.sku AND l.warehouse_code = il.warehouse_code AND l.quantity > 0
        AND (l.quarantined OR l.remove_at <= UTC_TIMESTAMP(3)))`;

/** A plain order's hold: lines in named warehouses. */
export interface MariadbHoldRequest {
  readonly serial: string;
  readonly orderId: string;
  readonly userId: string;
  readonly lines: readonly OrderLine[];
  readonly expiresAt: Date;
  /** The saga's input, stored in the saga outbox with the hold. */
  readonly saga?: Record<string, unknown>;
}

/** Holds every line or none: one guarded UPDATE per level (0 rows = short), never read-add-write. */
export async function reserveOnMariadb(pool: Pool, req: MariadbHoldRequest): Promise<ReserveOutcome> {
  return inMariadbTx(pool, async (tx) => {
    await lockSerial(tx, req.serial);
    if (await readMariadbFence(tx, req.serial, Operation.RELEASE))
      return { status: 'rejected', reason: 'ALREADY_RELEASED' };
    const first = await readMariadbFence<ReserveOutcome>(tx, req.serial, Operation.RESERVE);
    if (first) return first;
    const lines = mergeLines(req.lines);
    await tx.query('SAVEPOINT hold');
    const shortages: Shortage[] = [];
    for (const line of lines) {
      const short = await holdLine(tx, req.serial, line);
      if (short) shortages.push(short);
    }
    if (shortages.length > 0) {
      await tx.query('ROLLBACK TO SAVEPOINT hold');
      return recordReserve(tx, req.serial, { status: 'rejected', reason: 'INSUFFICIENT_STOCK', shortages });
    }
    const reserved: ReserveOutcome = {
      status: 'reserved',
      reservationId: req.serial,
      lines,
      allocations: [],
      expiresAt: req.expiresAt.toISOString(),
    };
    try {
      await tx.query(
        `INSERT INTO reservations (id, order_id, user_id, status, expires_at) VALUES (?, ?, ?, 'RESERVED', ?)`,
        [req.serial, req.orderId, req.userId, req.expiresAt],
      );
    } catch (err) {
      // The hold batch claims a serial by its keys, not by its slot: it recorded this one first.
      if (!isDuplicateKey(err)) throw err;
      await tx.query('ROLLBACK TO SAVEPOINT hold');
      return (await readMariadbFence<ReserveOutcome>(tx, req.serial, Operation.RESERVE))!;
    }
    await tx.batch(
      'INSERT INTO reservation_lines (reservation_id, sku, warehouse_code, quantity) VALUES (?, ?, ?, ?)',
      [...lines.map((l) => [req.serial, l.sku, l.warehouseCode, l.quantity])],
    );
    await tx.query('INSERT INTO saga_starts (order_id, input) VALUES (?, ?)', [
      req.orderId,
      JSON.stringify({ ...req.saga, reservation: reserved }),
    ]);
    await tx.batch(
      'INSERT INTO cache_outbox (sku) VALUES (?)',
      [...new Set(lines.map((l) => l.sku))].map((s) => [s]),
    );
    return recordReserve(tx, req.serial, reserved);
  });
}

/** The guarded UPDATE of one level, then its row read back under the lock (no UPDATE … RETURNING). */
async function holdLine(tx: MariadbTx, serial: string, line: OrderLine): Promise<Shortage | undefined> {
  const done = await tx.query<{ affectedRows: number }>(
    `UPDATE inventory_levels il SET il.reserved = il.reserved + ?, il.version = il.version + 1, il.updated_at = UTC_TIMESTAMP(3)
      WHERE il.sku = ? AND il.warehouse_code = ? AND ${AVAILABLE} >= ?`,
    [line.quantity, line.sku, line.warehouseCode, line.quantity],
  );
  if (done.affectedRows === 0) {
    const [level] = await tx.query<{ available: number }[]>(
      `SELECT ${AVAILABLE} AS available FROM inventory_levels il WHERE il.sku = ? AND il.warehouse_code = ?`,
      [line.sku, line.warehouseCode],
    );
    return {
      sku: line.sku,
      warehouseCode: line.warehouseCode,
      requested: line.quantity,
      available: Math.max(0, Number(level?.available ?? 0)),
    };
  }
  await writeMovement(tx, serial, 'RESERVE', line, 0, line.quantity);
  return undefined;
}

/** One ledger row for a level this transaction just changed (and holds locked): before = after − delta. */
export async function writeMovement(
  tx: MariadbTx,
  reference: string,
  reason: string,
  line: OrderLine,
  onHandDelta: number,
  reservedDelta: number,
): Promise<void> {
  await tx.query(
    `INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta,
                                  on_hand_before, on_hand_after, reserved_before, reserved_after, incoming_before, incoming_after)
     SELECT sku, warehouse_code, ?, ?, ?, ?, on_hand - ?, on_hand, reserved - ?, reserved, incoming, incoming
       FROM inventory_levels WHERE sku = ? AND warehouse_code = ?`,
    [reason, reference, onHandDelta, reservedDelta, onHandDelta, reservedDelta, line.sku, line.warehouseCode],
  );
}

async function recordReserve(tx: MariadbTx, serial: string, outcome: ReserveOutcome): Promise<ReserveOutcome> {
  if (await writeMariadbFence(tx, serial, Operation.RESERVE, outcome)) return outcome;
  return (await readMariadbFence<ReserveOutcome>(tx, serial, Operation.RESERVE))!;
}

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
 * orders this release with a batch claiming the serial right now.
 */
export async function releaseOnMariadb(pool: Pool, serial: string, reason: ReleaseReason): Promise<ReleaseOutcome> {
  return inMariadbTx(pool, async (tx) => {
    await lockSerial(tx, serial);
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
    await tx.query(
      `UPDATE reservations SET status = 'RELEASED', release_reason = ?, updated_at = UTC_TIMESTAMP(3) WHERE id = ?`,
      [reason, serial],
    );
    const outcome = await record({ status: 'released', lines: held.lines });
    if (back === 'pool') return outcome;
    for (const line of held.lines) {
      await tx.query(
        `UPDATE inventory_levels SET reserved = reserved - ?, version = version + 1, updated_at = UTC_TIMESTAMP(3)
          WHERE sku = ? AND warehouse_code = ?`,
        [line.quantity, line.sku, line.warehouseCode],
      );
      await writeMovement(tx, serial, `RELEASE:${reason}`, line, 0, -line.quantity);
    }
    await tx.batch(
      'INSERT INTO cache_outbox (sku) VALUES (?)',
      [...new Set(held.lines.map((l) => l.sku))].map((s) => [s]),
    );
    return outcome;
  });
}

/** Turns a hold into a sale (on hand and reserved both drop), fenced once per reservation. */
export async function confirmOnMariadb(pool: Pool, serial: string, paymentId: string): Promise<ConfirmOutcome> {
  return inMariadbTx(pool, async (tx) => {
    await lockSerial(tx, serial);
    const first = await readMariadbFence<ConfirmOutcome>(tx, serial, Operation.CONFIRM);
    if (first) return first;
    const held = await lockHold(tx, serial);
    // Not held (released, or never taken): not fenced, as on PostgreSQL's path.
    if (!held || held.status === ReservationStatus.RELEASED)
      return { status: 'not_held', reservationStatus: held ? 'RELEASED' : 'MISSING' };
    const outcome: ConfirmOutcome = { status: 'confirmed', paymentId };
    await writeMariadbFence(tx, serial, Operation.CONFIRM, outcome);
    await tx.query(
      `UPDATE reservations SET status = 'CONFIRMED', payment_id = ?, paid_at = UTC_TIMESTAMP(3), updated_at = UTC_TIMESTAMP(3) WHERE id = ?`,
      [paymentId, serial],
    );
    for (const line of held.lines) {
      await tx.query(
        `UPDATE inventory_levels SET on_hand = on_hand - ?, reserved = reserved - ?, version = version + 1, updated_at = UTC_TIMESTAMP(3)
          WHERE sku = ? AND warehouse_code = ?`,
        [line.quantity, line.quantity, line.sku, line.warehouseCode],
      );
      await writeMovement(tx, serial, 'CONFIRM', line, -line.quantity, -line.quantity);
    }
    await tx.batch(
      'INSERT INTO cache_outbox (sku) VALUES (?)',
      [...new Set(held.lines.map((l) => l.sku))].map((s) => [s]),
    );
    return outcome;
  });
}
