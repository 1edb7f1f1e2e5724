/**
 * PostgreSQL's deferred "lots sum to on hand" constraint on MariaDB (issue 22, docs/mysql.md
 * mechanism 2): concurrent receipts into lots keep the sum; a change that leaves the lots and
 * on-hand apart is refused at the assertion and rolls back, whether it comes through the
 * data/ helper or by hand.
 */
import type { Pool } from 'mariadb';
import { receiveLotOnMariadb, withLevelLots } from '../../data/mariadb/lots';
import { mariadbDrifts } from '../../data/mariadb/reconcile';
import { inMariadbTx } from '../../data/mariadb/tx';
import { recreateMysqlDatabase } from '../../prisma/mysql-migrate';
import {
  describeMariadb,
  levelOf,
  mariadbPool,
  seedLevel,
  TEST_MARIADB_APP_URL,
  TEST_MARIADB_URL,
} from '../helpers/mariadb';

describeMariadb('MariaDB: lots sum to on hand (the assertion under the level lock)', () => {
  let pool: Pool;

  beforeAll(async () => {
    await recreateMysqlDatabase(TEST_MARIADB_URL, { serviceUrl: TEST_MARIADB_APP_URL });
    const owner = mariadbPool(2);
    try {
      await seedLevel(owner, 'LOT', 'W1', 0);
      await owner.query("UPDATE products SET lot_tracked = TRUE WHERE sku = 'LOT'");
    } finally {
      await owner.end();
    }
    pool = mariadbPool(20, TEST_MARIADB_APP_URL);
  });
  afterAll(async () => {
    await pool?.end();
  });
  afterEach(async () => {
    expect(await mariadbDrifts(pool)).toEqual([]);
  });

  const lotsSum = async () =>
    Number(
      (await pool.query<{ s: number }[]>("SELECT COALESCE(SUM(quantity), 0) AS s FROM stock_lots WHERE sku = 'LOT'"))[0]
        .s,
    );

  test('30 concurrent receipts over three lots (and their repeats): the lots sum to on hand, each counted once', async () => {
    const receipts = Array.from({ length: 30 }, (_, i) => ({
      serial: `rcv-${i}`,
      sku: 'LOT',
      warehouseCode: 'W1',
      lotCode: `L${i % 3}`,
      quantity: 1 + (i % 4),
    }));
    await Promise.all([...receipts, ...receipts.slice(0, 10)].map((r) => receiveLotOnMariadb(pool, r)));
    const expected = receipts.reduce((sum, r) => sum + r.quantity, 0);
    expect(await levelOf(pool, 'LOT', 'W1')).toEqual({ onHand: expected, reserved: 0 });
    expect(await lotsSum()).toBe(expected);
  });

  test('a change that leaves the lots apart from on hand is refused and rolls back', async () => {
    const before = await levelOf(pool, 'LOT', 'W1');
    const lots = await lotsSum();
    await expect(
      inMariadbTx(pool, (tx) =>
        withLevelLots(tx, 'LOT', 'W1', async () => {
          await tx.query(
            "UPDATE inventory_levels SET on_hand = on_hand + 5 WHERE sku = 'LOT' AND warehouse_code = 'W1'",
          );
          await tx.query(
            "INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta) VALUES ('LOT', 'W1', 'RECEIPT', 'no-lot', 5, 0)",
          );
        }),
      ),
    ).rejects.toMatchObject({ errno: 4025, sqlState: '23000' });
    expect(await levelOf(pool, 'LOT', 'W1')).toEqual(before);
    expect(await lotsSum()).toBe(lots);
  });
});
