/**
 * Transactions on MySQL/MariaDB (issue 22, docs/mysql.md): the isolation level set explicitly
 * (READ COMMITTED, PostgreSQL's: a statement after a lock wait sees what committed meanwhile;
 * MySQL's default is REPEATABLE READ), the serial's transaction-scoped lock (a row lock on a
 * hashed slot, since GET_LOCK outlives COMMIT), and the fence helpers.
 */
import type { Pool, PoolConnection } from 'mariadb';

/** A connection inside an open transaction. */
export type MariadbTx = PoolConnection;

/** Slots in `stockhold_key_locks` (migration 0001_core). */
const KEY_LOCK_SLOTS = 65_536;

/** Runs `work` in one READ COMMITTED transaction: committed if it returns, rolled back if it throws. */
export async function inMariadbTx<T>(pool: Pool, work: (tx: MariadbTx) => Promise<T>): Promise<T> {
  const conn = await pool.getConnection();
  try {
    await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
    await conn.beginTransaction();
    // The transaction's id for the event triggers (migration 0080_events): its ledger rows and
    // events carry it, so a level changed twice in it has one stock.changed with its causes.
    await conn.query('SET @stockhold_txid = UUID_SHORT()');
    try {
      const result = await work(conn);
      await conn.commit();
      return result;
    } catch (err) {
      await conn.rollback().catch(() => undefined);
      throw err;
    }
  } finally {
    await conn.release();
  }
}

/**
 * The serial's lock until COMMIT or ROLLBACK (mechanism 1): reserve, confirm and release of
 * one serial run one after another. A slot row that is missing would lock nothing: refused.
 */
export async function lockSerial(tx: MariadbTx, serial: string): Promise<void> {
  const rows = await tx.query<unknown[]>(
    `SELECT slot FROM stockhold_key_locks WHERE slot = CRC32(?) % ${KEY_LOCK_SLOTS} FOR UPDATE`,
    [serial],
  );
  if (rows.length !== 1) throw new Error('stockhold_key_locks is missing its slot rows: run the MySQL migrations');
}

/** The recorded outcome of (serial, operation), or undefined. */
export async function readMariadbFence<T>(tx: MariadbTx, serial: string, operation: string): Promise<T | undefined> {
  const rows = await tx.query<{ outcome: unknown }[]>(
    'SELECT outcome FROM operation_fences WHERE serial = ? AND operation = ?',
    [serial, operation],
  );
  return rows[0] ? (jsonValue(rows[0].outcome) as T) : undefined;
}

/** A JSON column's value: the driver parses a column it knows is JSON and hands others over as text. */
export function jsonValue(value: unknown): unknown {
  return typeof value === 'string' ? JSON.parse(value) : value;
}

/** MySQL's duplicate-key error: someone recorded the key first (mechanism 4). */
export function isDuplicateKey(err: unknown): boolean {
  return (err as { errno?: number }).errno === 1062;
}

/**
 * Records (serial, operation) → outcome; false when it was recorded first by another
 * transaction (the duplicate key, after waiting for that transaction's commit). A failed
 * INSERT rolls back only itself in InnoDB: the transaction goes on.
 */
export async function writeMariadbFence(
  tx: MariadbTx,
  serial: string,
  operation: string,
  outcome: unknown,
): Promise<boolean> {
  try {
    await tx.query('INSERT INTO operation_fences (serial, operation, outcome) VALUES (?, ?, ?)', [
      serial,
      operation,
      JSON.stringify(outcome),
    ]);
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}
