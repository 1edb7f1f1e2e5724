/**
 * The bench's store side on real MariaDB (`npm run bench -- --store mariadb`, issue 22 items
 * 4–5): MariaDB's raw hot-row baseline takes its units from the row it times; the batches,
 * hold times and open work are read as the PostgreSQL bench reads them; and the end-of-run
 * checks (bench/checks.ts, with a real Temporal dev server for the running sagas) pass on a
 * clean store and name each broken guarantee: a hold still open, a saga never started, a sale
 * without its payment, a payment unsettled, more sold than the limit, a pool or a level that
 * disagrees with its holds or its ledger.
 */
import type { Pool } from 'mariadb';
import { Client } from '@temporalio/client';
import { createDb, type Db } from '../../data/db';
import { holdBatchOnMariadb, type MariadbBatchItem } from '../../data/mariadb/hold-batch';
import { confirmOnMariadb, releaseOnMariadb } from '../../data/mariadb/holds';
import { startDevServer, type DevServer } from '../../platform/dev-server';
import { freePort } from '../../platform/processes';
import { closeConnection, fencedConnection } from '../../platform/temporal';
import { searchAttributeKeys } from '../../workflows/search-attributes';
import { runChecks } from '../../bench/checks';
import {
  batchesSeenOnMariadb,
  holdTimesOnMariadb,
  mariadbHotRowCeiling,
  openWorkOnMariadb,
} from '../../bench/mariadb-store';
import { sagaStats } from '../../bench/sagas';
import { CAMPAIGN, PLAIN_SKU, WAREHOUSE } from '../../bench/scenario';
import {
  describeMariadb,
  mariadbPool,
  resetMariadb,
  seedCampaign,
  seedLevel,
  TEST_MARIADB_URL,
} from '../helpers/mariadb';

const expiresAt = () => new Date(Date.now() + 3_600_000).toISOString();

function item(serial: string): MariadbBatchItem {
  const line = { sku: 'FLASH', warehouseCode: WAREHOUSE, quantity: 1 };
  return {
    serial,
    orderId: serial,
    userId: `u-${serial}`,
    quantity: 1,
    expiresAt: expiresAt(),
    reserved: { status: 'reserved', reservationId: serial, lines: [line], allocations: [], expiresAt: expiresAt() },
    saga: { orderId: serial, userId: `u-${serial}` },
  };
}

describeMariadb('the bench on MariaDB: its baseline, reads and checks', () => {
  let owner: Pool;
  let db: Db;
  let temporal: DevServer;
  let client: Client;
  const limits = { units: 5, plainUnits: 5, sustainedUnits: 5 };

  beforeAll(async () => {
    await resetMariadb();
    owner = mariadbPool(4);
    // The bench's own Db: the owner's URL, as bench/run.ts makes it.
    db = createDb(TEST_MARIADB_URL, { maxConnections: 4 });
    temporal = await startDevServer({ searchAttributes: searchAttributeKeys, port: await freePort() });
    client = new Client({ connection: await fencedConnection({ address: temporal.address }) });
    await seedLevel(owner, 'FLASH', WAREHOUSE, 10);
    await seedCampaign(owner, CAMPAIGN, 'FLASH', WAREHOUSE, 5, 2);
    await seedLevel(owner, PLAIN_SKU, WAREHOUSE, 5);
  }, 120_000);

  afterAll(async () => {
    if (client) await closeConnection(client.connection);
    await temporal?.stop();
    await db?.$disconnect();
    await owner?.end();
  });

  test('the raw hot-row baseline counts updates that each took a unit from the row it times', async () => {
    const rate = await mariadbHotRowCeiling(TEST_MARIADB_URL, 1, 4);
    expect(rate).toBeGreaterThan(0);
    const [{ remaining }] = await owner.query<{ remaining: number }[]>(
      "SELECT remaining FROM bench_hot_pool WHERE id = 'C'",
    );
    // Each counted update took one unit (plus the four that prepared the statement, untimed).
    expect(1_000_000_000 - remaining).toBeGreaterThanOrEqual(Math.floor(rate * 0.9));
  });

  test('the checks pass on a clean store and name each broken guarantee', async () => {
    expect(await runChecks(db, client, limits, [])).toEqual([]);

    // Three holds of the sale through the service's batch procedure, in two batches.
    const batchStart = Date.now();
    await holdBatchOnMariadb(owner, { kind: 'campaign', campaignId: CAMPAIGN }, [item('b-0'), item('b-1')]);
    await new Promise((r) => setTimeout(r, 20));
    await holdBatchOnMariadb(owner, { kind: 'campaign', campaignId: CAMPAIGN }, [item('b-2')]);
    expect(await openWorkOnMariadb(owner)).toEqual({ holds: 3, pending: 0 });
    const seen = await batchesSeenOnMariadb(owner, 'b-', batchStart, Date.now() + 1000);
    expect(seen).toMatchObject({ batches: 2, meanSize: 1.5, maxSize: 2 });
    expect(seen.cycleMs.max).toBeGreaterThanOrEqual(20);
    const times = await holdTimesOnMariadb(owner, ['b-0', 'b-1', 'b-2', 'nobody']);
    expect(times.created.map((r) => r.id).sort()).toEqual(['b-0', 'b-1', 'b-2']);
    expect(Math.abs(times.created[0].created_at.getTime() - batchStart)).toBeLessThan(10_000);
    expect(times.lastSettledAt).toBeNull();

    // Open holds whose sagas the relay never started (no worker here).
    expect(await runChecks(db, client, limits, [])).toEqual([
      '3 holds still open',
      '3 holds whose saga was never marked started',
    ]);
    await owner.query("UPDATE saga_starts SET started_at = UTC_TIMESTAMP(3) WHERE order_id LIKE 'b-%'");

    // b-0 sold through the service's confirm with no payment stored; b-1 and b-2 released, as a cancel would.
    expect(await confirmOnMariadb(owner, 'b-0', 'pay-b-0')).toMatchObject({ status: 'confirmed' });
    await releaseOnMariadb(owner, 'b-1', 'CANCELLED');
    await releaseOnMariadb(owner, 'b-2', 'CANCELLED');
    expect(await runChecks(db, client, limits, [])).toEqual(['flash sale: 1 units sold but 0 payments confirmed']);
    // A pool that no longer matches its holds (units taken past the holds): the reconciliation says so.
    await owner.query('UPDATE campaigns SET remaining = remaining - 2 WHERE id = ?', [CAMPAIGN]);
    const failures = await runChecks(db, client, limits, []);
    expect(failures).toHaveLength(2);
    expect(failures[1]).toMatch(/^invariants broken: .*POOL_VS_HOLDS/);
    await owner.query('UPDATE campaigns SET remaining = remaining + 2 WHERE id = ?', [CAMPAIGN]);

    await owner.query(
      "INSERT INTO payments (order_id, payment_id, event_id, amount_cents) VALUES ('b-0', 'pay-b-0', 'ev-b-0', 999)",
    );
    expect(await openWorkOnMariadb(owner)).toEqual({ holds: 0, pending: 1 });
    expect(await runChecks(db, client, limits, [])).toEqual([
      'flash sale: 1 units sold but 0 payments confirmed',
      '1 payments not settled (PENDING)',
    ]);
    await owner.query("UPDATE payments SET state = 'CONFIRMED', settled_at = UTC_TIMESTAMP(3) WHERE order_id = 'b-0'");
    expect(await runChecks(db, client, limits, [])).toEqual([]);
    const stats = await sagaStats(client, db, ['b-0', 'b-1', 'b-2'], ['b-0']);
    expect(stats.lastSettledAt).toBeGreaterThanOrEqual(batchStart);

    // More sold than the phase's limit, a level whose counters the ledger does not explain, a 500.
    expect(await runChecks(db, client, { ...limits, units: 0 }, [])).toEqual([
      'OVERSOLD (flash sale): 1 units sold > 0',
    ]);
    await owner.query('UPDATE inventory_levels SET reserved = reserved + 1 WHERE sku = ? AND warehouse_code = ?', [
      PLAIN_SKU,
      WAREHOUSE,
    ]);
    const drifted = await runChecks(db, client, limits, [
      { outcome: '500', ms: 1, sentAt: 0, answeredAt: 1, message: 'boom' },
    ]);
    expect(drifted).toEqual([
      'plain level still has 1 reserved with every saga closed',
      expect.stringMatching(/^invariants broken: .*PLAIN-HOT/),
      '1 server errors (500)',
    ]);
    await owner.query('UPDATE inventory_levels SET reserved = reserved - 1 WHERE sku = ? AND warehouse_code = ?', [
      PLAIN_SKU,
      WAREHOUSE,
    ]);
  });
});
