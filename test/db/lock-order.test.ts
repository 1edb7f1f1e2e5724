/**
 * One lock order whatever the collation (issue 8, item 8). On a database whose default
 * collation is ICU en-US, `ORDER BY sku, warehouse_code` disagrees with the byte order the
 * reserve sorts lines in; confirm, release and transfers used to lock level rows in the
 * collation's order and deadlocked against reserves (242 deadlocks in 600 operations).
 * Every multi-row lock now sorts in byte order: racing operations over SKUs and warehouses
 * whose two orders differ must all succeed, with the invariants intact.
 */
import type { Db } from '../../data/db';
import { findDrifts } from '../../data/stock/reconcile';
import { confirmStock } from '../../data/orders/confirm';
import { releaseStock } from '../../data/orders/release';
import { reserveStock } from '../../data/orders/reservations';
import { receiveTransfer, requestTransfer, shipTransfer } from '../../data/transfers/transfers';
import { compareBytes } from '../../domain/byte-order';
import type { OrderLine } from '../../domain/types';
import { stock } from '../helpers/db';
import { recreateIcuDatabase } from '../helpers/icu-db';

// Pairs whose en-US order is the reverse of their byte order: 'sku_a' < 'sku-B' in en-US,
// 'sku-B' < 'sku_a' in bytes; 'b' < 'C' vs 'C' < 'b'; 'wh_A' < 'WH-b' vs 'WH-b' < 'wh_A'.
const SKUS = ['a-1', 'A_2', 'sku-B', 'sku_a', 'b', 'C'];
const WAREHOUSES = ['WH-b', 'wh_A'];
const STOCK = 1_000;
const ORDERS = 240;
const TRANSFERS = 30;
const RACERS = 16;

let db: Db;
beforeAll(async () => {
  db = await recreateIcuDatabase(20);
  for (const sku of SKUS) for (const wh of WAREHOUSES) await stock(db, sku, wh, STOCK);
}, 120_000);
afterAll(() => db.$disconnect());

/** Deterministic pseudo-random numbers, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

/** A failure in a line: the SQLSTATE (40P01 deadlock, 55P03 lock timeout) when there is one. */
const describe = (err: unknown) => {
  const message = String((err as Error)?.message ?? err);
  return /Code: `(\w+)`/.exec(message)?.[1] ?? message.slice(0, 200);
};

it('the database really sorts these ids otherwise than byte order', async () => {
  const ids = [...SKUS, ...WAREHOUSES];
  const rows = await db.$queryRaw<{ s: string }[]>`SELECT s FROM unnest(${ids}::text[]) s ORDER BY s`;
  expect(rows.map((r) => r.s)).not.toEqual([...ids].sort(compareBytes));
});

it('racing multi-line reserves, confirms, releases and transfers: no deadlock, no lock timeout, invariants hold', async () => {
  const next = random(8);
  const levels = SKUS.flatMap((sku) => WAREHOUSES.map((warehouseCode) => ({ sku, warehouseCode })));
  const failures: unknown[] = [];
  const expiresAt = new Date(Date.now() + 600_000).toISOString();

  const order = async (i: number) => {
    // 3–5 distinct levels, listed in random order (the reserve sorts them itself).
    const picked = [...levels].sort(() => next() - 0.5).slice(0, 3 + (i % 3));
    const lines: OrderLine[] = picked.map((l) => ({ ...l, quantity: 1 }));
    const id = `o${i}`;
    const held = await reserveStock(db, { reservationId: id, orderId: id, userId: 'u', lines, expiresAt });
    expect(held.status).toBe('reserved');
    if (i % 2 === 0) expect(await confirmStock(db, id, `p${i}`)).toMatchObject({ status: 'confirmed' });
    else expect(await releaseStock(db, id, 'CANCELLED')).toMatchObject({ status: 'released' });
  };
  const transfer = async (i: number) => {
    const sku = SKUS[i % SKUS.length];
    const [fromWarehouse, toWarehouse] = i % 2 === 0 ? WAREHOUSES : [...WAREHOUSES].reverse();
    const transferId = `t${i}`;
    expect(
      await requestTransfer(db, {
        transferId,
        sku,
        fromWarehouse,
        toWarehouse,
        quantity: 1,
        receiveWithinSeconds: 3_600,
      }),
    ).toEqual({
      status: 'requested',
    });
    expect(await shipTransfer(db, transferId, expiresAt)).toMatchObject({ status: 'done' });
    expect(await receiveTransfer(db, transferId, { receivedQuantity: 1 })).toMatchObject({ status: 'done' });
  };

  // Interleaved, and at most RACERS at once: each holds one pooled connection at a time.
  const work = [...Array.from({ length: ORDERS }, (_, i) => () => order(i))];
  for (let i = 0; i < TRANSFERS; i++) work.splice(i * 8, 0, () => transfer(i));
  // A wait past the 3 s lock_timeout (55P03) is retried, as the saga's activities retry it:
  // on a starved CPU 15 queued transactions can outlast it without any cycle. A wrong lock
  // order shows as a deadlock (40P01), which PostgreSQL detects after deadlock_timeout (1 s),
  // before any lock_timeout: that one is a failure, never retried.
  let lockTimeouts = 0;
  const attempt = async (op: () => Promise<void>, tries = 5): Promise<void> =>
    op().catch((err: unknown) => {
      if (describe(err) !== '55P03' || tries <= 1) throw err;
      lockTimeouts++;
      return attempt(op, tries - 1);
    });
  const racer = async () => {
    for (let op = work.shift(); op; op = work.shift()) await attempt(op).catch((err: unknown) => failures.push(err));
  };
  await Promise.all(Array.from({ length: RACERS }, racer));
  if (lockTimeouts > 0) console.warn(`lock-order: ${lockTimeouts} lock timeouts retried (a busy machine)`);

  expect(failures.map(describe)).toEqual([]);
  expect((await findDrifts(db)).drifts).toEqual([]);
  const held = await db.inventoryLevel.aggregate({ _sum: { reserved: true } });
  expect(held._sum.reserved).toBe(0);
}, 300_000);
