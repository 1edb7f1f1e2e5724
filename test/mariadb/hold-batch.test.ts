/**
 * The group-commit hold batch on real MariaDB (issue 22): one CALL per batch (one statement
 * from the client), first fit in arrival order, never oversold under concurrent batches, the
 * per-user limit under concurrency, replays and released serials, and a batch racing the
 * general reserve on the same serial. Every test ends with the store's drifts.
 */
import { confirmStockOnMariadb } from '../../data/mariadb/confirm-payment';
import type { Pool, PoolConnection } from 'mariadb';
import { holdBatchOnMariadb, type MariadbBatchItem } from '../../data/mariadb/hold-batch';
import { releaseOnMariadb, reserveOnMariadb } from '../../data/mariadb/holds';
import { mariadbDrifts } from '../../data/mariadb/reconcile';
import { DomainError } from '../../domain/errors';
import { recreateMysqlDatabase } from '../../prisma/mysql-migrate';
import {
  describeMariadb,
  levelOf,
  mariadbPool,
  seedCampaign,
  seedLevel,
  TEST_MARIADB_APP_URL,
  TEST_MARIADB_URL,
} from '../helpers/mariadb';

const expiresAt = () => new Date(Date.now() + 3_600_000).toISOString();

function item(
  serial: string,
  sku: string,
  warehouseCode: string,
  quantity = 1,
  userId = `u-${serial}`,
): MariadbBatchItem {
  const line = { sku, warehouseCode, quantity };
  return {
    serial,
    orderId: serial,
    userId,
    quantity,
    expiresAt: expiresAt(),
    reserved: { status: 'reserved', reservationId: serial, lines: [line], allocations: [], expiresAt: expiresAt() },
    saga: { orderId: serial, userId },
  };
}

describeMariadb('MariaDB group-commit hold batch (stockhold_hold_batch)', () => {
  let pool: Pool;

  beforeAll(async () => {
    await recreateMysqlDatabase(TEST_MARIADB_URL, { serviceUrl: TEST_MARIADB_APP_URL });
    // The service user runs the batches: EXECUTE is all it needs (the procedure runs as its definer).
    pool = mariadbPool(24, TEST_MARIADB_APP_URL);
  });
  afterAll(async () => {
    await pool?.end();
  });
  afterEach(async () => {
    expect(await mariadbDrifts(pool)).toEqual([]);
  });

  test('one statement from the client per batch; first fit in arrival order', async () => {
    const owner = mariadbPool(2);
    try {
      await seedLevel(owner, 'FIT', 'W1', 5);
    } finally {
      await owner.end();
    }
    const conn = await pool.getConnection();
    try {
      const questions = async () =>
        Number((await conn.query<{ Value: string }[]>("SHOW SESSION STATUS LIKE 'Questions'"))[0].Value);
      const before = await questions();
      const items = [item('fit-1', 'FIT', 'W1', 3), item('fit-2', 'FIT', 'W1', 3), item('fit-3', 'FIT', 'W1', 2)];
      const outcomes = await holdBatchOnMariadb(
        conn as unknown as Pool,
        { kind: 'level', sku: 'FIT', warehouseCode: 'W1' },
        items,
      );
      // Questions counts the client's statements (this SHOW included), not the procedure's own.
      expect((await questions()) - before).toBe(2);
      expect(outcomes.map((o) => ('status' in o ? o.status : 'replayed'))).toEqual([
        'reserved',
        'rejected',
        'reserved',
      ]);
      expect(outcomes[1]).toMatchObject({ reason: 'INSUFFICIENT_STOCK', shortages: [{ requested: 3, available: 2 }] });
    } finally {
      await conn.release();
    }
    const [{ n }] = await pool.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM saga_starts WHERE order_id LIKE 'fit-%'",
    );
    expect(Number(n)).toBe(2);
  });

  test('20 concurrent batches of 10 on a level of 50: exactly 50 held, never oversold', async () => {
    const owner = mariadbPool(2);
    try {
      await seedLevel(owner, 'BHOT', 'W1', 50);
    } finally {
      await owner.end();
    }
    const batches = Array.from({ length: 20 }, (_, b) =>
      holdBatchOnMariadb(
        pool,
        { kind: 'level', sku: 'BHOT', warehouseCode: 'W1' },
        Array.from({ length: 10 }, (_, i) => item(`bhot-${b}-${i}`, 'BHOT', 'W1')),
      ),
    );
    const outcomes = (await Promise.all(batches)).flat();
    expect(outcomes.filter((o) => 'status' in o && o.status === 'reserved')).toHaveLength(50);
    expect(await levelOf(pool, 'BHOT', 'W1')).toEqual({ onHand: 50, reserved: 50 });
  });

  test('a flash sale under concurrent batches: the pool and every user limit hold', async () => {
    const owner = mariadbPool(2);
    try {
      await seedLevel(owner, 'FLASH', 'W1', 100);
      await seedCampaign(owner, 'c-flash', 'FLASH', 'W1', 30, 2);
    } finally {
      await owner.end();
    }
    // 12 users × 4 attempts of 1 unit, spread over 8 concurrent batches: at most 2 each, 30 in all.
    const attempts = Array.from({ length: 48 }, (_, i) => item(`flash-${i}`, 'FLASH', 'W1', 1, `user-${i % 12}`));
    const batches = Array.from({ length: 8 }, (_, b) =>
      holdBatchOnMariadb(
        pool,
        { kind: 'campaign', campaignId: 'c-flash' },
        attempts.filter((_, i) => i % 8 === b),
      ),
    );
    const outcomes = (await Promise.all(batches)).flat();
    const won = outcomes.filter((o) => 'status' in o && o.status === 'reserved').length;
    expect(won).toBe(24); // 12 users × their limit of 2: the limit binds before the pool of 30
    expect(outcomes.filter((o) => 'reason' in o && o.reason === 'LIMIT_REACHED')).toHaveLength(24);
    const counts = await pool.query<{ quantity: number }[]>(
      "SELECT quantity FROM campaign_user_counts WHERE campaign_id = 'c-flash'",
    );
    expect(Math.max(...counts.map((c) => c.quantity))).toBe(2);
    const [{ remaining }] = await pool.query<{ remaining: number }[]>(
      "SELECT remaining FROM campaigns WHERE id = 'c-flash'",
    );
    expect(remaining).toBe(6);
    // Sold out: the next batch is refused without touching anything.
    const more = Array.from({ length: 8 }, (_, i) => item(`flash-more-${i}`, 'FLASH', 'W1', 1, `late-${i}`));
    const second = await holdBatchOnMariadb(pool, { kind: 'campaign', campaignId: 'c-flash' }, more);
    expect(second.filter((o) => 'status' in o && o.status === 'reserved')).toHaveLength(6);
    expect(second.filter((o) => 'reason' in o && o.reason === 'SOLD_OUT')).toHaveLength(2);
  });

  test('each user once per batch (the set-based path): the limit still binds across concurrent batches', async () => {
    const owner = mariadbPool(2);
    try {
      await seedLevel(owner, 'ONCE', 'W1', 100);
      await seedCampaign(owner, 'c-once', 'ONCE', 'W1', 50, 2);
    } finally {
      await owner.end();
    }
    // 4 concurrent batches, each naming all 10 users once: 40 attempts, a limit of 2 each → 20.
    const batches = Array.from({ length: 4 }, (_, b) =>
      holdBatchOnMariadb(
        pool,
        { kind: 'campaign', campaignId: 'c-once' },
        Array.from({ length: 10 }, (_, u) => item(`once-${b}-${u}`, 'ONCE', 'W1', 1, `user-${u}`)),
      ),
    );
    const outcomes = (await Promise.all(batches)).flat();
    expect(outcomes.filter((o) => 'status' in o && o.status === 'reserved')).toHaveLength(20);
    expect(outcomes.filter((o) => 'reason' in o && o.reason === 'LIMIT_REACHED')).toHaveLength(20);
  });

  /** Runs `batch` while `other` holds uncommitted rows, waits until the batch waits on them, then lets `other` commit. */
  async function whileOtherCommits<T>(
    owner: Pool,
    other: PoolConnection,
    batch: Promise<T>,
    beforeCommit: () => Promise<void>,
  ) {
    let settled = false;
    void batch.then(
      () => (settled = true),
      () => (settled = true),
    );
    // Polled every 200 ms: InnoDB refreshes innodb_trx only when it was not read for 100 ms.
    for (let waited = 0; !settled; waited += 200) {
      const [{ n }] = await owner.query<{ n: number }[]>(
        "SELECT COUNT(*) AS n FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'",
      );
      if (Number(n) > 0) break;
      if (waited > 10_000) throw new Error('the batch never waited on the rows');
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(settled).toBe(false);
    await beforeCommit();
    await other.commit();
    return batch;
  }

  const theirs = { status: 'rejected', reason: 'INSUFFICIENT_STOCK', shortages: [] };
  const dupItems = (p: string) => [item(`${p}-1`, p, 'W1'), item(`${p}-2`, p, 'W1'), item(`${p}-3`, p, 'W1')];

  test('a fence another transaction commits while the batch reads the fences: that one replays, the others stand', async () => {
    const owner = mariadbPool(2);
    await seedLevel(owner, 'DUPA', 'W1', 10);
    const other = await owner.getConnection();
    try {
      await other.beginTransaction();
      await other.query("INSERT INTO operation_fences (serial, operation, outcome) VALUES ('DUPA-2', 'RESERVE', ?)", [
        JSON.stringify(theirs),
      ]);
      const batch = holdBatchOnMariadb(pool, { kind: 'level', sku: 'DUPA', warehouseCode: 'W1' }, dupItems('DUPA'));
      const outcomes = await whileOtherCommits(owner, other, batch, async () => undefined);
      expect(outcomes[0]).toMatchObject({ status: 'reserved' });
      expect(outcomes[1]).toEqual({ replayed: theirs });
      expect(outcomes[2]).toMatchObject({ status: 'reserved' });
      expect(await levelOf(pool, 'DUPA', 'W1')).toEqual({ onHand: 10, reserved: 2 });
    } finally {
      await other.release();
      await owner.end();
    }
  });

  test('a hold another transaction commits while the batch claims it (the duplicate-key path): that one replays and gives back', async () => {
    const owner = mariadbPool(2);
    await seedLevel(owner, 'DUPB', 'W1', 10);
    const other = await owner.getConnection();
    try {
      await other.beginTransaction();
      await other.query(
        "INSERT INTO reservations (id, order_id, user_id, status, expires_at) VALUES ('DUPB-2', 'DUPB-2', 'them', 'RELEASED', UTC_TIMESTAMP(3))",
      );
      const batch = holdBatchOnMariadb(pool, { kind: 'level', sku: 'DUPB', warehouseCode: 'W1' }, dupItems('DUPB'));
      // The batch waits on the hold's key; its fence comes with it in the same commit.
      const outcomes = await whileOtherCommits(owner, other, batch, async () => {
        await other.query("INSERT INTO operation_fences (serial, operation, outcome) VALUES ('DUPB-2', 'RESERVE', ?)", [
          JSON.stringify(theirs),
        ]);
      });
      expect(outcomes[0]).toMatchObject({ status: 'reserved' });
      expect(outcomes[1]).toEqual({ replayed: theirs });
      expect(outcomes[2]).toMatchObject({ status: 'reserved' });
      // Two units held (theirs took none), and their hold is theirs.
      expect(await levelOf(pool, 'DUPB', 'W1')).toEqual({ onHand: 10, reserved: 2 });
      const [{ user }] = await pool.query<{ user: string }[]>(
        "SELECT user_id AS user FROM reservations WHERE id = 'DUPB-2'",
      );
      expect(user).toBe('them');
      const [{ n }] = await pool.query<{ n: number }[]>(
        "SELECT COUNT(*) AS n FROM reservation_lines WHERE reservation_id = 'DUPB-2'",
      );
      expect(Number(n)).toBe(0);
    } finally {
      await other.release();
      await owner.end();
    }
  });

  test('batches, releases and confirms racing on one flash sale and the same users: no deadlock, pool and counts agree', async () => {
    const owner = mariadbPool(2);
    try {
      await seedLevel(owner, 'RR', 'W1', 200);
      await seedCampaign(owner, 'c-rr', 'RR', 'W1', 100, 3);
    } finally {
      await owner.end();
    }
    const target = { kind: 'campaign', campaignId: 'c-rr' } as const;
    const first = Array.from({ length: 20 }, (_, u) => item(`rr-a-${u}`, 'RR', 'W1', 1, `user-${u}`));
    expect((await holdBatchOnMariadb(pool, target, first)).every((o) => 'status' in o && o.status === 'reserved')).toBe(
      true,
    );
    // Users 0–19 release or pay for their holds while batches for the same users (each once, or twice) come in.
    const results = await Promise.allSettled([
      ...first.map((i, n) =>
        n % 2
          ? releaseOnMariadb(pool, i.serial, 'CANCELLED')
          : confirmStockOnMariadb(pool, i.serial, `pay-${i.serial}`),
      ),
      ...Array.from({ length: 8 }, (_, b) =>
        holdBatchOnMariadb(
          pool,
          target,
          Array.from({ length: 6 }, (_, k) => item(`rr-b-${b}-${k}`, 'RR', 'W1', 1, `user-${(b * 3 + k) % 20}`)),
        ),
      ),
    ]);
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);
  });

  test('a serial recorded before is replayed; one released before is refused; a released campaign hold goes back to its pool', async () => {
    const owner = mariadbPool(2);
    try {
      await seedLevel(owner, 'RP', 'W1', 20);
      await seedCampaign(owner, 'c-rp', 'RP', 'W1', 5, 5);
    } finally {
      await owner.end();
    }
    const target = { kind: 'campaign', campaignId: 'c-rp' } as const;
    const [first] = await holdBatchOnMariadb(pool, target, [item('rp-1', 'RP', 'W1', 2, 'u1')]);
    expect(first).toMatchObject({ status: 'reserved' });
    await releaseOnMariadb(pool, 'rp-gone', 'EXPIRED');
    const again = await holdBatchOnMariadb(pool, target, [
      item('rp-1', 'RP', 'W1', 2, 'u1'),
      item('rp-gone', 'RP', 'W1', 1, 'u2'),
    ]);
    // An empty release records the serial's reserve as refused: the batch replays that refusal (as on PostgreSQL).
    expect(again).toEqual([{ replayed: first }, { replayed: { status: 'rejected', reason: 'ALREADY_RELEASED' } }]);
    expect(await releaseOnMariadb(pool, 'rp-1', 'CANCELLED')).toMatchObject({ status: 'released' });
    const [{ remaining }] = await pool.query<{ remaining: number }[]>(
      "SELECT remaining FROM campaigns WHERE id = 'c-rp'",
    );
    expect(remaining).toBe(5);
  });

  test('a batch and the general reserve racing on the same serials: one hold each, stock taken once', async () => {
    const owner = mariadbPool(2);
    try {
      await seedLevel(owner, 'MIX', 'W1', 100);
    } finally {
      await owner.end();
    }
    const serials = Array.from({ length: 15 }, (_, i) => `mix-${i}`);
    const [batch, ...singles] = await Promise.all([
      holdBatchOnMariadb(
        pool,
        { kind: 'level', sku: 'MIX', warehouseCode: 'W1' },
        serials.map((s) => item(s, 'MIX', 'W1')),
      ),
      ...serials.map((s) =>
        reserveOnMariadb(pool, {
          serial: s,
          orderId: s,
          userId: `u-${s}`,
          lines: [{ sku: 'MIX', warehouseCode: 'W1', quantity: 1 }],
          expiresAt: new Date(Date.now() + 3_600_000),
        }),
      ),
    ]);
    expect(batch).toHaveLength(15);
    expect(singles.every((o) => o.status === 'reserved')).toBe(true);
    expect(await levelOf(pool, 'MIX', 'W1')).toEqual({ onHand: 100, reserved: 15 });
  });

  test('an unknown campaign or product fails the whole batch with its code, and records nothing', async () => {
    await expect(
      holdBatchOnMariadb(pool, { kind: 'campaign', campaignId: 'nope' }, [item('nope-1', 'X', 'W1')]),
    ).rejects.toMatchObject({ code: 'CAMPAIGN_NOT_FOUND' });
    await expect(
      holdBatchOnMariadb(pool, { kind: 'level', sku: 'NO-SUCH', warehouseCode: 'W1' }, [
        item('nope-2', 'NO-SUCH', 'W1'),
      ]),
    ).rejects.toBeInstanceOf(DomainError);
    const [{ n }] = await pool.query<{ n: number }[]>(
      "SELECT COUNT(*) AS n FROM operation_fences WHERE serial LIKE 'nope-%'",
    );
    expect(Number(n)).toBe(0);
  });
});
