/**
 * Deterministic lock races on the real PostgreSQL: a raw connection that holds a row lock
 * while the code under test queues up behind it, and a wait until a given number of
 * backends are really blocked on a lock (not merely started), so the order in which the
 * waiters get the row is the order they queued in.
 */
import { Client } from 'pg';
import { TEST_DATABASE_URL } from './env';

/** A transaction holding the level row's lock until `release()` commits it. */
export interface RowBlocker {
  release(): Promise<void>;
  /** Resolves once `n` other backends of this database wait on a lock. */
  waiters(n: number): Promise<void>;
}

export async function blockLevel(sku: string, warehouseCode: string, url = TEST_DATABASE_URL): Promise<RowBlocker> {
  const client = new Client({ connectionString: url });
  await client.connect();
  // Polled outside the blocking transaction: inside one, pg_stat_activity is a snapshot.
  const watcher = new Client({ connectionString: url });
  await watcher.connect();
  await client.query('BEGIN');
  await client.query('SELECT 1 FROM inventory_levels WHERE sku = $1 AND warehouse_code = $2 FOR UPDATE', [
    sku,
    warehouseCode,
  ]);
  const release = async () => {
    await client.query('COMMIT');
    await Promise.all([client.end(), watcher.end()]);
  };
  return {
    release,
    async waiters(n: number) {
      for (let i = 0; i < 500; i++) {
        const { rows } = await watcher.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (rows[0].n >= n) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      await release(); // never leave the row locked behind a failed test
      throw new Error(`fewer than ${n} backends ever waited on a lock`);
    },
  };
}

/** A transaction holding a serial's advisory lock (the one data/db.ts inKeyLockedTx takes) until `release()`. */
export async function blockSerial(serial: string, url = TEST_DATABASE_URL): Promise<RowBlocker> {
  const client = new Client({ connectionString: url });
  await client.connect();
  const watcher = new Client({ connectionString: url });
  await watcher.connect();
  await client.query('BEGIN');
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [serial]);
  const release = async () => {
    await client.query('COMMIT');
    await Promise.all([client.end(), watcher.end()]);
  };
  return {
    release,
    async waiters(n: number) {
      for (let i = 0; i < 500; i++) {
        const { rows } = await watcher.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (rows[0].n >= n) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      await release();
      throw new Error(`fewer than ${n} backends ever waited on a lock`);
    },
  };
}
