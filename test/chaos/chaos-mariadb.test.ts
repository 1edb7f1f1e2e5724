/**
 * The chaos suite, reduced, on MySQL/MariaDB (issue 22): the same scenario code as
 * `npm run chaos -- --store mariadb`, on the real stack (own Temporal dev server, redis-server
 * and nats-server, the real worker and API processes with DATABASE_URL the MariaDB service
 * user's, on TEST_MARIADB_URL's database, dropped and migrated) — the scenarios that matter most
 * for the incident: duplicate payment callbacks, Redis killed mid-sale, the worker SIGKILLed,
 * the service's database sessions killed. Each must end with its invariants intact, checked
 * against MariaDB. Then the checks themselves are shown to see a broken store.
 */
import type { Pool } from 'mariadb';
import { createDb } from '../../data/db';
import { findDrifts } from '../../data/stock/reconcile';
import { REDUCED, runSuite } from '../../chaos/suite';
import { MARIADB_SERVICE_USER } from '../../chaos/stack';
import { mariadbProbe } from '../../chaos/store-probe';
import { failed, type Row } from '../../chaos/table';
import { describeMariadb, mariadbPool, TEST_MARIADB_URL } from '../helpers/mariadb';

jest.setTimeout(300_000);

/** Scenario numbers run here: 1 duplicate callbacks, 3 Redis killed, 4 worker SIGKILL, 6 sessions killed. */
const PICKED = ['1', '3', '4', '6'];

describeMariadb('the chaos suite on MariaDB (reduced)', () => {
  let rows: Row[] = [];

  it('every scenario ends with nothing oversold, lost or stuck, and the invariants intact on MariaDB', async () => {
    const lines: string[] = [];
    rows = await runSuite(
      { ...REDUCED, orders: 30 },
      (line) => lines.push(line),
      (s) => PICKED.includes(s.name.split(' ')[0]),
      { store: 'mariadb', ownerUrl: TEST_MARIADB_URL },
    );
    console.log(lines.join('\n'));
    expect(rows.map((r) => r.scenario.split(' ')[0])).toEqual(['1', '3', '6', '4']);
    expect(rows.filter((r) => r.skipped !== undefined)).toEqual([]);
    expect(rows.filter(failed)).toEqual([]);
    // The faults happened: every payment deduplicated to one confirmation, sessions were killed.
    expect(rows[0].notes).toMatch(/ 30 confirmations/);
    expect(Number(/^(\d+) sessions killed/.exec(rows[2].notes ?? '')?.[1])).toBeGreaterThan(0);
  });

  describe('the invariant checks on MariaDB see a broken store', () => {
    let owner: Pool;
    const probe = () => mariadbProbe(TEST_MARIADB_URL, MARIADB_SERVICE_USER);

    beforeAll(() => {
      owner = mariadbPool(2);
    });
    afterAll(async () => {
      await owner.end();
    });

    it('a unit confirmed beyond what was received is oversold and a drift; a PENDING payment and an expired hold are named', async () => {
      // The database the suite left behind: clean.
      const p = probe();
      const db = createDb(TEST_MARIADB_URL, { maxConnections: 2 });
      try {
        expect(await p.oversold()).toBe(0);
        expect((await findDrifts(db)).drifts).toEqual([]);
        expect(await p.pendingPayments()).toEqual([]);
        expect(await p.expiredHolds()).toBe(0);

        // A confirmation the level never saw (as the owner: the service user cannot write this).
        await owner.query(
          `INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta)
           VALUES ('CHAOS-DUP', 'W1', 'CONFIRM', 'forged', -1, 0)`,
        );
        await owner.query(
          `INSERT INTO payments (order_id, payment_id, event_id, reservation_id, amount_cents, state, received_at)
           VALUES ('forged-order', 'forged-pay', 'forged-ev', NULL, 1, 'PENDING', UTC_TIMESTAMP(3))`,
        );
        await owner.query(
          `UPDATE reservations SET status = 'RESERVED', expires_at = UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE
            WHERE order_id = 'dup-0'`,
        );
        expect(await p.oversold()).toBe(1);
        expect((await findDrifts(db)).drifts.map((d) => `${d.check} ${d.sku}`)).toContain(
          'ON_HAND_VS_LEDGER CHAOS-DUP',
        );
        expect(await p.pendingPayments()).toEqual(['forged-order/forged-pay']);
        expect(await p.expiredHolds()).toBe(1);
        expect(await p.confirmsOn('CHAOS-DUP')).toContainEqual({ reference: 'forged', n: 1 });
      } finally {
        await p.close();
        await db.$disconnect();
      }
    });
  });
});
