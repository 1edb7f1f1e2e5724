/**
 * The guarantees of the reserve / confirm / release core on real MariaDB (issue 22,
 * docs/mysql.md): never oversold under many connections on one hot row, a repeat returns the
 * first result, release and confirm idempotent and ordered, the ledger append-only for the
 * service user, multi-line orders without deadlock. Every test ends with the store's drifts.
 */
import { confirmStockOnMariadb } from '../../data/mariadb/confirm-payment';
import type { Pool } from 'mariadb';
import { releaseOnMariadb, reserveOnMariadb } from '../../data/mariadb/holds';
import { mariadbDrifts } from '../../data/mariadb/reconcile';
import { readMariadbFence, writeMariadbFence } from '../../data/mariadb/tx';
import type { OrderLine, ReserveOutcome } from '../../domain/types';
import { recreateMysqlDatabase } from '../../prisma/mysql-migrate';
import {
  describeMariadb,
  levelOf,
  mariadbPool,
  seedLevel,
  TEST_MARIADB_APP_URL,
  TEST_MARIADB_URL,
} from '../helpers/mariadb';

const inAnHour = () => new Date(Date.now() + 3_600_000);
const hold = (pool: Pool, serial: string, lines: OrderLine[]) =>
  reserveOnMariadb(pool, {
    serial,
    orderId: serial,
    userId: `u-${serial}`,
    lines,
    expiresAt: inAnHour(),
    saga: { orderId: serial },
  });

describeMariadb('MariaDB reserve / confirm / release', () => {
  let pool: Pool;

  beforeAll(async () => {
    await recreateMysqlDatabase(TEST_MARIADB_URL, { serviceUrl: TEST_MARIADB_APP_URL });
    pool = mariadbPool(64);
  });
  afterAll(async () => {
    await pool?.end();
  });
  afterEach(async () => {
    expect(await mariadbDrifts(pool)).toEqual([]);
  });

  test('60 connections on one hot row of 20 units: exactly 20 holds, never below zero', async () => {
    await seedLevel(pool, 'HOT', 'W1', 20);
    const outcomes = await Promise.all(
      Array.from({ length: 60 }, (_, i) => hold(pool, `hot-${i}`, [{ sku: 'HOT', warehouseCode: 'W1', quantity: 1 }])),
    );
    expect(outcomes.filter((o) => o.status === 'reserved')).toHaveLength(20);
    expect(outcomes.filter((o) => o.status === 'rejected' && o.reason === 'INSUFFICIENT_STOCK')).toHaveLength(40);
    expect(await levelOf(pool, 'HOT', 'W1')).toEqual({ onHand: 20, reserved: 20 });
    const [{ n }] = await pool.query<{ n: number }[]>("SELECT COUNT(*) AS n FROM reservations WHERE id LIKE 'hot-%'");
    expect(Number(n)).toBe(20);
  });

  test('a repeat returns the first outcome and takes nothing more, even ten at once', async () => {
    await seedLevel(pool, 'REP', 'W1', 5);
    const line = { sku: 'REP', warehouseCode: 'W1', quantity: 2 };
    const all = await Promise.all(Array.from({ length: 10 }, () => hold(pool, 'rep-1', [line])));
    expect(new Set(all.map((o) => JSON.stringify(o))).size).toBe(1);
    expect(all[0].status).toBe('reserved');
    expect(await hold(pool, 'rep-1', [line])).toEqual(all[0]);
    expect(await levelOf(pool, 'REP', 'W1')).toEqual({ onHand: 5, reserved: 2 });
    // A refusal is fenced too: the same serial stays refused once stock comes back.
    const refused = await hold(pool, 'rep-2', [{ ...line, quantity: 4 }]);
    expect(refused).toMatchObject({ status: 'rejected', reason: 'INSUFFICIENT_STOCK' });
    await releaseOnMariadb(pool, 'rep-1', 'CANCELLED');
    expect(await hold(pool, 'rep-2', [{ ...line, quantity: 4 }])).toEqual(refused);
  });

  test('release and confirm are idempotent, and whichever comes first wins', async () => {
    await seedLevel(pool, 'TCC', 'W1', 10);
    const line = { sku: 'TCC', warehouseCode: 'W1', quantity: 3 };
    await hold(pool, 'tcc-paid', [line]);
    await hold(pool, 'tcc-gone', [line]);
    expect(await confirmStockOnMariadb(pool, 'tcc-paid', 'p-1')).toEqual({ status: 'confirmed', paymentId: 'p-1' });
    expect(await confirmStockOnMariadb(pool, 'tcc-paid', 'p-2')).toEqual({ status: 'confirmed', paymentId: 'p-1' });
    expect(await releaseOnMariadb(pool, 'tcc-paid', 'EXPIRED')).toEqual({ status: 'already_confirmed' });
    const released = await releaseOnMariadb(pool, 'tcc-gone', 'EXPIRED');
    expect(released).toEqual({ status: 'released', lines: [line] });
    expect(await releaseOnMariadb(pool, 'tcc-gone', 'CANCELLED')).toEqual(released);
    expect(await confirmStockOnMariadb(pool, 'tcc-gone', 'p-3')).toEqual({
      status: 'not_held',
      reservationStatus: 'RELEASED',
    });
    // Sold 3 once, released 3 once.
    expect(await levelOf(pool, 'TCC', 'W1')).toEqual({ onHand: 7, reserved: 0 });
  });

  test('confirm and release racing on one hold: exactly one of them moves stock', async () => {
    await seedLevel(pool, 'RACE', 'W1', 50);
    const serials = Array.from({ length: 20 }, (_, i) => `race-${i}`);
    for (const s of serials) await hold(pool, s, [{ sku: 'RACE', warehouseCode: 'W1', quantity: 1 }]);
    const results = await Promise.all(
      serials.flatMap((s) => [confirmStockOnMariadb(pool, s, `pay-${s}`), releaseOnMariadb(pool, s, 'EXPIRED')]),
    );
    const confirmed = results.filter((r) => r.status === 'confirmed').length;
    const released = results.filter((r) => r.status === 'released').length;
    expect(confirmed + released).toBe(20);
    expect(await levelOf(pool, 'RACE', 'W1')).toEqual({ onHand: 50 - confirmed, reserved: 0 });
  });

  test('an empty release fences off a late reserve of the same serial', async () => {
    await seedLevel(pool, 'LATE', 'W1', 5);
    expect(await releaseOnMariadb(pool, 'late-1', 'EXPIRED')).toEqual({ status: 'released_empty' });
    expect(await hold(pool, 'late-1', [{ sku: 'LATE', warehouseCode: 'W1', quantity: 1 }])).toEqual({
      status: 'rejected',
      reason: 'ALREADY_RELEASED',
    });
    expect(await levelOf(pool, 'LATE', 'W1')).toEqual({ onHand: 5, reserved: 0 });
  });

  test('multi-line orders over the same rows in every order: no deadlock, never oversold', async () => {
    const skus = ['M-A', 'M-B', 'M-C', 'M-D'];
    for (const sku of skus) await seedLevel(pool, sku, 'W1', 30);
    const orders = Array.from({ length: 40 }, (_, i) => {
      // Each order names the rows in another order (rotated, some reversed): merged into byte order before locking.
      const rotated = [...skus.slice(i % 4), ...skus.slice(0, i % 4)];
      const named = i % 2 ? rotated.reverse() : rotated;
      return named.map((sku) => ({ sku, warehouseCode: 'W1', quantity: 1 }));
    });
    const outcomes = await Promise.all(orders.map((lines, i) => hold(pool, `multi-${i}`, lines)));
    const won = outcomes.filter((o): o is Extract<ReserveOutcome, { status: 'reserved' }> => o.status === 'reserved');
    expect(won).toHaveLength(30);
    for (const sku of skus) expect(await levelOf(pool, sku, 'W1')).toEqual({ onHand: 30, reserved: 30 });
  });

  test("READ COMMITTED is what lets a step see a fence committed while it waited (REPEATABLE READ, MySQL's default, would not)", async () => {
    const owner = mariadbPool(3);
    try {
      /** A step that reads the fence, claims it (waiting for `other`), and reads it again after the duplicate key. */
      const racingStep = async (isolation: 'READ COMMITTED' | 'REPEATABLE READ', serial: string) => {
        const other = await owner.getConnection();
        const step = await owner.getConnection();
        try {
          await other.beginTransaction();
          await other.query(
            "INSERT INTO operation_fences (serial, operation, outcome) VALUES (?, 'RESERVE', '{\"first\":true}')",
            [serial],
          );
          await step.query(`SET TRANSACTION ISOLATION LEVEL ${isolation}`);
          await step.beginTransaction();
          expect(await readMariadbFence(step, serial, 'RESERVE')).toBeUndefined();
          const claim = writeMariadbFence(step, serial, 'RESERVE', { second: true });
          await new Promise((r) => setTimeout(r, 300)); // the claim waits on the key (or, late, meets it committed: same answers)
          await other.commit();
          expect(await claim).toBe(false); // duplicate key: recorded first by the other
          const seen = await readMariadbFence(step, serial, 'RESERVE');
          await step.rollback();
          return seen;
        } finally {
          await other.release();
          await step.release();
        }
      };
      expect(await racingStep('READ COMMITTED', 'iso-rc')).toEqual({ first: true });
      expect(await racingStep('REPEATABLE READ', 'iso-rr')).toBeUndefined();
    } finally {
      await owner.end();
    }
  });

  test('the ledger and the fences are append-only for the service user; the ledger even for the owner', async () => {
    const app = mariadbPool(2, TEST_MARIADB_APP_URL);
    try {
      await expect(app.query('UPDATE stock_movements SET reserved_delta = 0')).rejects.toMatchObject({ errno: 1142 });
      await expect(app.query('DELETE FROM stock_movements')).rejects.toMatchObject({ errno: 1142 });
      await expect(app.query("UPDATE operation_fences SET outcome = '{}'")).rejects.toMatchObject({ errno: 1142 });
      await expect(app.query('DELETE FROM stockhold_key_locks')).rejects.toMatchObject({ errno: 1142 });
      await expect(app.query('DROP TABLE stock_movements')).rejects.toMatchObject({ errno: 1142 });
      // What it may do: hold through the same code (reads, guarded updates, appends).
      await seedLevel(pool, 'ROLE', 'W1', 3);
      expect(await hold(app, 'role-1', [{ sku: 'ROLE', warehouseCode: 'W1', quantity: 1 }])).toMatchObject({
        status: 'reserved',
      });
      expect(await releaseOnMariadb(app, 'role-1', 'CANCELLED')).toMatchObject({ status: 'released' });
    } finally {
      await app.end();
    }
    await expect(pool.query('UPDATE stock_movements SET reserved_delta = 0 WHERE id = 1')).rejects.toMatchObject({
      sqlState: '45000',
    });
    await expect(pool.query('DELETE FROM stock_movements WHERE id = 1')).rejects.toMatchObject({ sqlState: '45000' });
  });
});
