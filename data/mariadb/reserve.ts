/**
 * The general reserve on MySQL/MariaDB (issue 22, docs/mysql.md): data/orders/reservations.ts
 * for InnoDB. Every line or none, in one READ COMMITTED transaction under the serial's slot
 * lock: its fences read, lines without a warehouse placed by allocation (read inside the
 * transaction, re-planned when stock moved between the read and the guarded UPDATEs), one
 * guarded UPDATE per level (0 rows = short; never read-add-write), then the hold, its lines,
 * its ledger rows (with the actor), the saga's outbox row when the request path asks for one,
 * the cache outbox rows, and the RESERVE fence.
 *
 * Lock order: the serial's slot → the levels in byte order of (SKU, warehouse) (mergeLines
 * sorts them) → the claims (hold row, then fence), as every MariaDB path.
 */
import type { Pool } from 'mariadb';
import { planAllocation, requestedAllocation, type Availability, type WarehouseSite } from '../../domain/allocation';
import { mergeLines } from '../../domain/lines';
import {
  Operation,
  type AllocationNote,
  type AllocationPreferences,
  type OrderLine,
  type RequestedLine,
  type ReserveOutcome,
  type Shortage,
} from '../../domain/types';
import { assertCataloguedOnMariadb } from './catalog';
import { AVAILABLE, recordInvalidations, writeMovement } from './levels';
import {
  inMariadbTx,
  isDuplicateKey,
  jsonValue,
  lockSerial,
  readMariadbFence,
  writeMariadbFence,
  type MariadbTx,
} from './tx';

/** As PostgreSQL's: how often the reserve re-plans when stock moved under its plan. */
const PLAN_ATTEMPTS = 3;

/** An order's hold: lines in named warehouses, or left to allocation. */
export interface MariadbHoldRequest {
  readonly serial: string;
  readonly orderId: string;
  readonly userId: string;
  readonly lines: readonly RequestedLine[];
  readonly allocation?: AllocationPreferences;
  readonly expiresAt: Date;
  readonly amountCents?: number;
  /** The key id or `system:<writer>` the ledger rows record. */
  readonly actor?: string;
  /** The saga's input: given, it goes into the saga outbox with the hold (the request path); absent, none is written (the saga's own reserve). */
  readonly saga?: Record<string, unknown>;
  /** A refusal for stock of a SKU or warehouse that does not exist is a 404 instead, and nothing is recorded (the request path). */
  readonly catalogCheck?: boolean;
}

/** What the reserve came to; `replayed`: recorded before (by this path, the batch, or a release). */
export interface MariadbHoldResult {
  readonly outcome: ReserveOutcome;
  readonly replayed: boolean;
}

/** Holds every line or none; a recorded outcome is returned as it was. */
export async function holdOnMariadb(pool: Pool, req: MariadbHoldRequest): Promise<MariadbHoldResult> {
  return inMariadbTx(pool, async (tx) => {
    await lockSerial(tx, req.serial);
    return holdInMariadbTx(tx, req);
  });
}

/**
 * The reserve inside the caller's transaction, which holds `req.serial`'s slot (a transfer's
 * request records its transfer row in the same commit). Uses the savepoint `hold`.
 */
export async function holdInMariadbTx(tx: MariadbTx, req: MariadbHoldRequest): Promise<MariadbHoldResult> {
  const fences = await readReserveFences(tx, req.serial);
  // A recorded reserve wins over a release (the batch's rule): a retry gets its first answer.
  if (fences.reserve) return { outcome: fences.reserve, replayed: true };
  await tx.query('SAVEPOINT hold');
  if (fences.released) return recordReserve(tx, req.serial, { status: 'rejected', reason: 'ALREADY_RELEASED' });
  const result = await planAndTake(tx, req);
  if (result.outcome.status === 'rejected' && result.outcome.reason === 'INSUFFICIENT_STOCK' && req.catalogCheck) {
    // A 404 rolls the whole transaction back: the refusal is not recorded.
    await assertCataloguedOnMariadb(
      tx,
      req.lines.map((l) => l.sku),
      req.lines.flatMap((l) => (l.warehouseCode ? [l.warehouseCode] : [])),
    );
  }
  return result;
}

/** The plain outcome (the core's original entry point, kept for its callers). */
export async function reserveOnMariadb(pool: Pool, req: MariadbHoldRequest): Promise<ReserveOutcome> {
  return (await holdOnMariadb(pool, req)).outcome;
}

async function planAndTake(tx: MariadbTx, req: MariadbHoldRequest): Promise<MariadbHoldResult> {
  if (req.lines.every((l): l is OrderLine => l.warehouseCode !== undefined)) {
    const lines = mergeLines(req.lines);
    const short = await takeLines(tx, lines);
    if (short.length === 0) return createHold(tx, req, lines, requestedAllocation(lines));
    return refuse(tx, req.serial, await describeShortages(tx, short));
  }
  const [sites, skus] = [await readSites(tx), [...new Set(req.lines.map((l) => l.sku))]];
  let short: OrderLine[] = [];
  for (let attempt = 1; attempt <= PLAN_ATTEMPTS; attempt++) {
    const plan = planAllocation(req.lines, req.allocation ?? {}, sites, await readAvailableBySite(tx, skus));
    if (plan.status === 'short') return refuse(tx, req.serial, plan.shortages);
    short = await takeLines(tx, plan.lines);
    if (short.length === 0) return createHold(tx, req, plan.lines, plan.notes);
  }
  return refuse(tx, req.serial, await describeShortages(tx, short));
}

/** Holds every line (in lock order) or, when one is short, none: returns the short ones. */
async function takeLines(tx: MariadbTx, lines: readonly OrderLine[]): Promise<OrderLine[]> {
  await tx.query('SAVEPOINT take_lines');
  const merged = mergeLines(lines);
  const short: OrderLine[] = [];
  for (const line of merged) {
    const done = await tx.query<{ affectedRows: number }>(
      `UPDATE inventory_levels il SET il.reserved = il.reserved + ?, il.version = il.version + 1, il.updated_at = UTC_TIMESTAMP(3)
        WHERE il.sku = ? AND il.warehouse_code = ? AND ${AVAILABLE} >= ?`,
      [line.quantity, line.sku, line.warehouseCode, line.quantity],
    );
    if (done.affectedRows === 0) short.push(line);
  }
  if (short.length === 0) short.push(...(await overdrawn(tx, merged)));
  if (short.length > 0) await tx.query('ROLLBACK TO SAVEPOINT take_lines');
  return short;
}

/**
 * The guard's second half (data/stock/guard.ts says why): the levels now below 0 after the
 * takes, read in a fresh statement while this transaction holds their rows. Whatever changes a
 * lot's sellability locks its level row first (withLevelLots), so this read cannot be
 * overtaken before the commit; a level it finds below 0 was taken on a stale view of its lots.
 */
async function overdrawn(tx: MariadbTx, lines: readonly OrderLine[]): Promise<OrderLine[]> {
  const rows = await tx.query<{ sku: string; warehouse_code: string }[]>(
    `SELECT il.sku, il.warehouse_code FROM inventory_levels il
      WHERE (il.sku, il.warehouse_code) IN (${lines.map(() => '(?, ?)').join(', ')}) AND ${AVAILABLE} < 0`,
    lines.flatMap((l) => [l.sku, l.warehouseCode]),
  );
  return lines.filter((l) => rows.some((r) => r.sku === l.sku && r.warehouse_code === l.warehouseCode));
}

async function createHold(
  tx: MariadbTx,
  req: MariadbHoldRequest,
  lines: readonly OrderLine[],
  allocations: readonly AllocationNote[],
): Promise<MariadbHoldResult> {
  const reserved: ReserveOutcome = {
    status: 'reserved',
    reservationId: req.serial,
    lines: [...lines],
    allocations: [...allocations],
    expiresAt: req.expiresAt.toISOString(),
  };
  try {
    await tx.query(
      `INSERT INTO reservations (id, order_id, user_id, status, expires_at, amount_cents, allocation)
       VALUES (?, ?, ?, 'RESERVED', ?, ?, ?)`,
      [req.serial, req.orderId, req.userId, req.expiresAt, req.amountCents ?? null, JSON.stringify(allocations)],
    );
  } catch (err) {
    // The hold batch claims a serial by its keys, not by its slot: it recorded this one first.
    if (!isDuplicateKey(err)) throw err;
    return replayInstead(tx, req.serial);
  }
  await tx.batch(
    'INSERT INTO reservation_lines (reservation_id, sku, warehouse_code, quantity) VALUES (?, ?, ?, ?)',
    lines.map((l) => [req.serial, l.sku, l.warehouseCode, l.quantity]),
  );
  for (const line of lines) await writeMovement(tx, req.serial, 'RESERVE', line, 0, line.quantity, req.actor);
  if (req.saga) {
    await tx.query('INSERT INTO saga_starts (order_id, input) VALUES (?, ?)', [
      req.orderId,
      JSON.stringify({ ...req.saga, reservation: reserved }),
    ]);
  }
  await recordInvalidations(
    tx,
    lines.map((l) => l.sku),
  );
  return recordReserve(tx, req.serial, reserved);
}

/** A refusal for stock: nothing is held (the savepoint), the refusal is recorded. */
function refuse(tx: MariadbTx, serial: string, shortages: readonly Shortage[]): Promise<MariadbHoldResult> {
  return recordReserve(tx, serial, { status: 'rejected', reason: 'INSUFFICIENT_STOCK', shortages: [...shortages] });
}

/**
 * Records the outcome under the RESERVE fence. Another transaction that recorded one first
 * (the batch, which holds no slot, or a release fencing the reserve off) wins: what this one
 * took since the savepoint goes back and that outcome is the answer.
 */
async function recordReserve(tx: MariadbTx, serial: string, outcome: ReserveOutcome): Promise<MariadbHoldResult> {
  if (await writeMariadbFence(tx, serial, Operation.RESERVE, outcome)) return { outcome, replayed: false };
  return replayInstead(tx, serial);
}

async function replayInstead(tx: MariadbTx, serial: string): Promise<MariadbHoldResult> {
  await tx.query('ROLLBACK TO SAVEPOINT hold');
  return { outcome: (await readMariadbFence<ReserveOutcome>(tx, serial, Operation.RESERVE))!, replayed: true };
}

/** The serial's RESERVE outcome and whether a RELEASE is recorded, in one round trip. */
async function readReserveFences(
  tx: MariadbTx,
  serial: string,
): Promise<{ reserve?: ReserveOutcome; released: boolean }> {
  const rows = await tx.query<{ operation: string; outcome: unknown }[]>(
    'SELECT operation, outcome FROM operation_fences WHERE serial = ? AND operation IN (?, ?)',
    [serial, Operation.RESERVE, Operation.RELEASE],
  );
  const reserve = rows.find((r) => r.operation === Operation.RESERVE);
  return {
    reserve: reserve ? (jsonValue(reserve.outcome) as ReserveOutcome) : undefined,
    released: rows.some((r) => r.operation === Operation.RELEASE),
  };
}

async function describeShortages(tx: MariadbTx, short: readonly OrderLine[]): Promise<Shortage[]> {
  const out: Shortage[] = [];
  for (const line of short) {
    const [level] = await tx.query<{ available: unknown }[]>(
      `SELECT GREATEST(0, ${AVAILABLE}) AS available FROM inventory_levels il WHERE il.sku = ? AND il.warehouse_code = ?`,
      [line.sku, line.warehouseCode],
    );
    out.push({ ...line, requested: line.quantity, available: Number(level?.available ?? 0) });
  }
  return out.map(({ sku, warehouseCode, requested, available }) => ({ sku, warehouseCode, requested, available }));
}

/** Every warehouse with what allocation ranks it by (data/stock/allocation-reads.ts). */
async function readSites(tx: MariadbTx): Promise<WarehouseSite[]> {
  return tx.query<WarehouseSite[]>('SELECT code, region, priority, latitude, longitude FROM warehouses ORDER BY code');
}

/** Sellable quantity of each SKU per warehouse (negative when holds exceed sellable stock). */
async function readAvailableBySite(tx: MariadbTx, skus: readonly string[]): Promise<Availability> {
  const rows = await tx.query<{ sku: string; warehouse_code: string; available: unknown }[]>(
    `SELECT il.sku, il.warehouse_code, ${AVAILABLE} AS available FROM inventory_levels il WHERE il.sku IN (?)`,
    [[...skus]],
  );
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    if (!out.has(r.sku)) out.set(r.sku, new Map());
    out.get(r.sku)!.set(r.warehouse_code, Number(r.available));
  }
  return out;
}
