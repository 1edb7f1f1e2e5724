/**
 * The chaos suite, reduced, on MySQL/MariaDB (issue 22): the same scenario code as
 * `npm run chaos -- --store mariadb`, on the real stack (own Temporal dev server, redis-server
 * and nats-server, the real worker and API processes with DATABASE_URL the MariaDB service
 * user's, on TEST_MARIADB_URL's database, dropped and migrated) — the scenarios that matter most
 * for the incident: duplicate payment callbacks, Redis killed mid-sale, the worker SIGKILLed,
 * the service's database sessions killed; hostile input; the events through NATS with Redis, NATS
 * and a subscriber failing. Each must end with its invariants intact, checked against MariaDB.
 * Then the checks themselves are shown to see a broken store.
 */
import type { Pool } from 'mariadb';
import { createDb } from '../../data/db';
import { findDrifts } from '../../data/stock/reconcile';
import { REDUCED } from '../../chaos/suite';
import { MARIADB_SERVICE_USER } from '../../chaos/stack';
import { mariadbProbe } from '../../chaos/store-probe';
import { chaosScenarioTests, numberOf } from '../helpers/chaos';
import { describeMariadb, mariadbPool, TEST_MARIADB_URL } from '../helpers/mariadb';

/**
 * Scenario numbers run here: 1 duplicate callbacks, 3 Redis killed, 4 worker SIGKILL, 6 sessions
 * killed, 8 hostile input, 13 events through NATS (8 and 13 add about 17 s together).
 */
const PICKED = ['1', '3', '4', '6', '8', '13'];
const SCENARIO_LIMIT_MS = 300_000;

describeMariadb('the chaos suite on MariaDB (reduced)', () => {
  describe('every scenario ends with nothing oversold, lost or stuck, and the invariants intact on MariaDB', () => {
    chaosScenarioTests(
      { ...REDUCED, orders: 30 },
      { store: 'mariadb', ownerUrl: TEST_MARIADB_URL },
      SCENARIO_LIMIT_MS,
      PICKED,
      (scenario, row) => {
        // The faults happened: every payment deduplicated to one confirmation, sessions were killed.
        if (numberOf(scenario) === '1') expect(row.notes).toMatch(/ 30 confirmations/);
        if (numberOf(scenario) === '6')
          expect(Number(/^(\d+) sessions killed/.exec(row.notes ?? '')?.[1])).toBeGreaterThan(0);
        // The hostile requests were answered both ways; the events went through NATS to the subscriber.
        if (numberOf(scenario) === '8')
          expect([row.outcomes['2xx'] > 0, row.outcomes['4xx'] > 0]).toEqual([true, true]);
        if (numberOf(scenario) === '13')
          expect(Number(/^(\d+) events, \1 stream messages/.exec(row.notes ?? '')?.[1])).toBeGreaterThan(0);
      },
    );
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

    it("scenario 8's state hash changes with a product's name, a warehouse's position or a level's safety stock, and only then", async () => {
      const p = probe();
      try {
        const [{ sku }] = await owner.query<{ sku: string }[]>('SELECT sku FROM products ORDER BY sku LIMIT 1');
        const [{ code }] = await owner.query<{ code: string }[]>('SELECT code FROM warehouses ORDER BY code LIMIT 1');
        let before = await p.stateHash();
        expect(await p.stateHash()).toBe(before);
        for (const [sql, params] of [
          ['UPDATE products SET name = CONCAT(name, ?) WHERE sku = ?', ['\u0000', sku]],
          ['UPDATE warehouses SET latitude = ?, longitude = ? WHERE code = ?', [1.5, 2.5, code]],
          ['UPDATE inventory_levels SET safety_stock = safety_stock + ? WHERE sku = ?', [1, sku]],
        ] as const) {
          await owner.query(sql, [...params]);
          const after = await p.stateHash();
          expect({ sql, changed: after !== before }).toEqual({ sql, changed: true });
          before = after;
        }
      } finally {
        await p.close();
      }
    });
  });
});
