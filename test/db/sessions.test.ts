/**
 * The session settings every connection of the service carries (docs/replicas.md): statement_timeout, idle_in_transaction_session_timeout and TCP keepalive on
 * both the Prisma pool and the hold pool — so a client lost in the middle of a transaction
 * (a worker that froze or lost its network) frees the hottest row in seconds, not hours.
 */
import { createDb, dbOptions, type Db } from '../../data/db';
import { createHoldPool } from '../../data/orders/request-hold';
import { resetDb, stock, testDb } from '../helpers/db';
import { TEST_APP_DATABASE_URL, testConfig } from '../helpers/env';

const config = testConfig({
  DB_STATEMENT_TIMEOUT_MS: '1500',
  DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '1000',
  DB_TCP_KEEPALIVE_IDLE_SECONDS: '20',
  DB_POOL_MAX: '3',
});
let owner: Db;
beforeAll(() => {
  owner = testDb();
});
afterAll(() => owner.$disconnect());
beforeEach(() => resetDb(owner));

it('the Prisma pool and the hold pool set the timeouts and the server-side keepalive on their sessions', async () => {
  const db = createDb(TEST_APP_DATABASE_URL, dbOptions(config));
  const pool = createHoldPool(TEST_APP_DATABASE_URL, 1, config.database);
  try {
    const show = `SELECT current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle,
                         current_setting('tcp_keepalives_idle') AS keepalive, current_user AS role`;
    const expected = { statement: '1500ms', idle: '1s', keepalive: '20', role: 'stockhold_app' };
    expect((await db.$queryRawUnsafe<Record<string, string>[]>(show))[0]).toEqual(expected);
    expect((await pool.query(show)).rows[0]).toEqual(expected);
    // statement_timeout is enforced: the statement is cancelled, the connection stays usable.
    const started = Date.now();
    await expect(pool.query('SELECT pg_sleep(5)')).rejects.toMatchObject({ code: '57014' });
    expect(Date.now() - started).toBeLessThan(4_000);
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  } finally {
    await pool.end();
    await db.$disconnect();
  }
});

it('a client that stops in the middle of a transaction holding the hottest row: PostgreSQL ends it and the row is free in about a second', async () => {
  await stock(owner, 'HOT', 'W1', 10);
  const pool = createHoldPool(TEST_APP_DATABASE_URL, 1, config.database);
  const lost = await pool.connect();
  lost.on('error', () => undefined); // the server ends the session: expected
  try {
    await lost.query('BEGIN');
    await lost.query(`SELECT * FROM inventory_levels WHERE sku = 'HOT' FOR UPDATE`);
    // ... and the client never comes back. The next writer of the row waits only until the
    // server ends the idle transaction (DB_IDLE_IN_TRANSACTION_TIMEOUT_MS = 1000).
    const started = Date.now();
    await owner.$executeRaw`UPDATE inventory_levels SET safety_stock = 1 WHERE sku = 'HOT'`;
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThan(500);
    expect(waited).toBeLessThan(5_000);
    await expect(lost.query('SELECT 1')).rejects.toThrow();
  } finally {
    lost.release(true);
    await pool.end();
  }
});
