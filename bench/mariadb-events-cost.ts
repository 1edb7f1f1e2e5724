/**
 * What the events cost the flash sale on MariaDB (`--store mariadb`; bench/events-cost.ts is
 * PostgreSQL's): the hold batch's transaction, `CALL stockhold_hold_batch`, on the flash sale's
 * shape (a campaign pool) and on a level, timed with the event triggers on and off, alternating
 * every few batches so the machine's noise falls on both alike. `eventsOverheadRatio` is the
 * campaign batches' holds/s on / off, as on PostgreSQL.
 *
 * **Events off.** MariaDB's events are nothing but triggers in the writer's transaction
 * (prisma/mysql/migrations/0080_events), and InnoDB has no `ALTER TABLE … DISABLE TRIGGER`. So
 * "off" drops the triggers a hold batch fires — the level's two, the campaign's update, the
 * hold's insert, and `stock_movements_txid` (the ledger's txid stamp: PostgreSQL's
 * `pg_current_xact_id()` default, which its "off" drops too) — and "on" creates them again from
 * their own `SHOW CREATE TRIGGER` text, read before the first drop, with their `sql_mode`. The
 * procedure's `SET @stockhold_txid = UUID_SHORT()` stays in both (one function call). The bench
 * connects as the schema owner; run while nothing else writes: a change committed with the
 * triggers dropped would miss its event. The triggers are back in `finally`.
 *
 * **Rolled back.** The procedure runs its own transaction and commits it, so a batch cannot be
 * rolled back from outside as PostgreSQL's is. Each timed batch's holds carry order ids whose
 * saga outbox rows the bench wrote beforehand (already marked started: the saga relay leaves
 * them alone). The procedure's last statement, the saga outbox INSERT, meets them (1062): its
 * EXIT handler rolls the whole batch back, events and all. Nothing is held, no saga is due; the
 * time is every statement of the batch plus the rollback, without the commit (PostgreSQL's
 * excludes both; the rollback undoes the event rows too, so if anything it counts against the
 * events).
 */
import type { PoolConnection } from 'mariadb';
import { performance } from 'node:perf_hooks';
import { createMariadbPool } from '../platform/mariadb';
import { BATCH_CAMPAIGN, BATCH_LEVEL_SKU, BATCH_POOL_SKU } from './batch-cost';
import { summariseEventsCost, type EventsCost } from './events-cost';

/** The event triggers a hold batch fires on MariaDB (a level batch, a campaign batch), and the txid stamp. */
export const MARIADB_BATCH_EVENT_TRIGGERS = [
  'inventory_levels_event_before_update',
  'inventory_levels_event_after_update',
  'campaigns_event_update',
  'reservations_event_insert',
  'stock_movements_txid',
] as const;

/** A trigger as `SHOW CREATE TRIGGER` gives it: enough to create it again exactly. */
export interface SavedTrigger {
  readonly name: string;
  readonly sqlMode: string;
  readonly statement: string;
}

/** Every trigger of MARIADB_BATCH_EVENT_TRIGGERS as it is now; refuses if one is missing (events already off). */
export async function saveMariadbEventTriggers(conn: PoolConnection): Promise<SavedTrigger[]> {
  const saved: SavedTrigger[] = [];
  for (const name of MARIADB_BATCH_EVENT_TRIGGERS) {
    const rows = await conn.query<Record<string, string>[]>(
      `SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() AND TRIGGER_NAME = ?`,
      [name],
    );
    if (rows.length === 0) throw new Error(`event trigger ${name} is missing: the events are off in this database`);
    const [row] = await conn.query<Record<string, string>[]>(`SHOW CREATE TRIGGER ${name}`);
    saved.push({ name, sqlMode: row.sql_mode, statement: row['SQL Original Statement'] });
  }
  return saved;
}

/** Drops the saved triggers (off), or creates those missing again from their saved text (on). */
export async function setMariadbEvents(conn: PoolConnection, saved: readonly SavedTrigger[], on: boolean) {
  if (!on) {
    for (const t of saved) await conn.query(`DROP TRIGGER IF EXISTS ${t.name}`);
    return;
  }
  const present = new Set(
    (
      await conn.query<{ name: string }[]>(
        'SELECT TRIGGER_NAME AS name FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()',
      )
    ).map((r) => r.name),
  );
  const [{ mode }] = await conn.query<{ mode: string }[]>('SELECT @@SESSION.sql_mode AS mode');
  try {
    for (const t of saved) {
      if (present.has(t.name)) continue;
      await conn.query('SET SESSION sql_mode = ?', [t.sqlMode]);
      await conn.query(t.statement);
    }
  } finally {
    await conn.query('SET SESSION sql_mode = ?', [mode]);
  }
}

/** The order ids of the timed batches' holds, one per item position: their saga outbox rows are the bench's. */
const decoyOrderId = (kind: 'campaign' | 'level', i: number) => `evcost-${kind}-${i}`;

/** `size` single-unit holds as the API's HoldBatcher queues them, each serial new, the order ids the decoys'. */
function batchBody(kind: 'campaign' | 'level', size: number, tag: string): string {
  const expiresAt = new Date(Date.now() + 900_000).toISOString();
  const line = { sku: kind === 'level' ? BATCH_LEVEL_SKU : BATCH_POOL_SKU, warehouseCode: 'W1', quantity: 1 };
  return JSON.stringify(
    Array.from({ length: size }, (_, i) => {
      const serial = `evcost-${tag}-${i}`;
      const orderId = decoyOrderId(kind, i);
      const reserved = { status: 'reserved', reservationId: serial, lines: [line], allocations: [], expiresAt };
      const order = {
        orderId,
        userId: `evcost-u-${i}`,
        lines: [line],
        ...(kind === 'campaign' ? { campaignId: BATCH_CAMPAIGN } : {}),
      };
      return {
        serial,
        orderId,
        userId: order.userId,
        quantity: 1,
        expiresAt,
        reserved,
        saga: { order, ttlSeconds: 900, gateAdmitted: kind === 'campaign' },
      };
    }),
  );
}

/** One batch, rolled back by its own last statement: its time, ms. Throws if it ends any other way. */
async function timeBatch(conn: PoolConnection, kind: 'campaign' | 'level', size: number, tag: string): Promise<number> {
  const args = kind === 'campaign' ? ['campaign', BATCH_CAMPAIGN, null] : ['level', BATCH_LEVEL_SKU, 'W1'];
  const body = batchBody(kind, size, tag);
  const started = performance.now();
  try {
    await conn.query('CALL stockhold_hold_batch(?, ?, ?, ?)', [...args, body]);
  } catch (err) {
    const ms = performance.now() - started;
    const e = err as { errno?: number; text?: string; message?: string };
    if (e.errno === 1062 && (e.text ?? e.message ?? '').includes(`'${decoyOrderId(kind, 0)}'`)) return ms;
    throw err;
  }
  throw new Error(`a ${kind} hold batch of the events phase committed (its saga outbox rows were not in the way)`);
}

/**
 * `rounds` rounds, each a chunk of `chunk` batches of each kind with the events off and one with
 * them on (the order alternating by round), on the bench's batch-cost campaign and level
 * (bench/setup.ts). The first batch after a switch is not counted: the trigger change reloads
 * the tables' definitions, in both directions alike.
 */
export async function mariadbEventsCost(url: string, rounds: number, chunk = 10, size = 50): Promise<EventsCost> {
  const pool = createMariadbPool(url, { connectionLimit: 1 });
  const conn = await pool.getConnection();
  const times: Record<string, number[]> = { 'campaign on': [], 'campaign off': [], 'level on': [], 'level off': [] };
  const decoys = (['campaign', 'level'] as const).flatMap((kind) =>
    Array.from({ length: size }, (_, i) => decoyOrderId(kind, i)),
  );
  let saved: SavedTrigger[] = [];
  try {
    saved = await saveMariadbEventTriggers(conn);
    await conn.query(
      `INSERT INTO saga_starts (order_id, input, started_at) VALUES ${decoys.map(() => "(?, '{}', UTC_TIMESTAMP(3))").join(', ')}`,
      decoys,
    );
    for (let r = 0; r < rounds; r++) {
      for (const on of r % 2 === 0 ? [false, true] : [true, false]) {
        await setMariadbEvents(conn, saved, on);
        for (const kind of ['campaign', 'level'] as const) {
          await timeBatch(conn, kind, size, `${r}-${on}-${kind}-warm`);
          for (let b = 0; b < chunk; b++)
            times[`${kind} ${on ? 'on' : 'off'}`].push(await timeBatch(conn, kind, size, `${r}-${on}-${kind}-${b}`));
        }
      }
    }
    const [left] = await conn.query<{ n: bigint }[]>("SELECT COUNT(*) AS n FROM reservations WHERE id LIKE 'evcost-%'");
    if (Number(left.n) > 0) throw new Error(`${left.n} holds of the events phase were not rolled back`);
  } finally {
    try {
      if (saved.length > 0) await setMariadbEvents(conn, saved, true);
      await conn.query('DELETE FROM saga_starts WHERE order_id IN (?)', [decoys]);
    } finally {
      await conn.release();
      await pool.end();
    }
  }
  return summariseEventsCost(times, size);
}
