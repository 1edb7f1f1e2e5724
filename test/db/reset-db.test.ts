/**
 * The test helper's reset (test/helpers/db.ts resetDb) ends a session of the test database left
 * idle in a transaction by a suite that failed midway, and nothing else: not a session idle in a
 * transaction in another database (another checkout's tests on the same server, their row-lock
 * blockers), not a fresh one in the test database. Its first form ended every session idle in a
 * transaction on the server: the planner evaluated pg_terminate_backend before the filters.
 */
import { Client } from 'pg';
import type { Db } from '../../data/db';
import { resetDb, testDb } from '../helpers/db';
import { TEST_DATABASE_URL } from '../helpers/env';

let db: Db;
beforeAll(() => {
  db = testDb();
});
afterAll(async () => {
  await db.$disconnect();
});

async function idleInTransaction(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  client.on('error', () => undefined); // a terminated session would report here: the test asserts it is alive
  await client.query('BEGIN');
  await client.query('SELECT 1');
  return client;
}

it('leaves sessions idle in a transaction in other databases, and fresh ones in its own, alive', async () => {
  const otherDatabase = new URL(TEST_DATABASE_URL);
  otherDatabase.pathname = '/postgres';
  const elsewhere = await idleInTransaction(otherDatabase.toString());
  const fresh = await idleInTransaction(TEST_DATABASE_URL);
  try {
    await resetDb(db);
    expect((await elsewhere.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    expect((await fresh.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  } finally {
    await Promise.all(
      [elsewhere, fresh].map((c) =>
        c.query('ROLLBACK').then(
          () => c.end(),
          () => c.end(),
        ),
      ),
    );
  }
});
