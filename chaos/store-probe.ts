/**
 * What the chaos suite reads from (and does to) the store itself, apart from the service: the
 * invariants' figures, the scenarios' own counts, and the store-side faults. One form per store,
 * the same meaning: the PostgreSQL form is the suite's original SQL; the MariaDB form (issue 22)
 * reads the same tables through a pool as the database's owner, who may also end the service
 * user's sessions. A scenario never asks the service what it did: it reads it here.
 */
import type { Pool, PoolConnection } from 'mariadb';
import { Client } from 'pg';
import type { Db } from '../data/db';
import type { CloudEvent } from '../data/events/types';
import { jsonValue } from '../data/mariadb/tx';
import { connectMariadb, createMariadbPool } from '../platform/mariadb';

export type Store = 'postgresql' | 'mariadb';

export interface PaymentRow {
  readonly orderId: string;
  readonly paymentId: string;
  readonly state: string;
}

/** Rows of one level locked by a transaction of the suite's own, until `release()` commits it. */
export interface LevelLock {
  /** The latest expiry of the SKU's holds, and how many of them had not expired when the lock was taken. */
  readonly lastExpiry: Date;
  readonly dueUnderLock: number;
  release(): Promise<void>;
}

/** A payment stored before its order's hold expired (scenario 10), and how early it was. */
export interface OnTimePayment {
  readonly order_id: string;
  readonly payment_id: string;
  readonly state: string;
  readonly reason: string | null;
  readonly reservation_id: string | null;
  readonly early_ms: number;
}

/** A row locked by the suite: released at `release()` or after its time, whichever is first (`released`). */
export interface RowLock {
  readonly released: Promise<void>;
  release(): Promise<void>;
}

/** Commits `commit` once `ms` have passed or `release()` is called; `end` closes the session after. */
function timedLock(ms: number, commit: () => Promise<unknown>, end: () => Promise<unknown>): RowLock {
  let early: () => void = () => undefined;
  const due = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    early = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  const released = due
    .then(() => commit())
    .then(() => undefined)
    .finally(() => end());
  return {
    released,
    release: () => {
      early();
      return released;
    },
  };
}

export interface StoreProbe {
  readonly store: Store;
  /** `payments` rows of these orders. */
  paymentsOf(orderIds: readonly string[]): Promise<PaymentRow[]>;
  /** `order/payment` of every payment still PENDING, oldest first. */
  pendingPayments(): Promise<string[]>;
  /** Orders among `orderIds` whose payment with event id `ev-<order>` is stored. */
  storedPayments(orderIds: readonly string[]): Promise<Set<string>>;
  /** Rows still waiting in the cache outbox. */
  cacheOutboxCount(): Promise<number>;
  skus(): Promise<string[]>;
  /** Holds still RESERVED past their expiry. */
  expiredHolds(): Promise<number>;
  /** Holds still RESERVED on `sku`, expired or not. */
  openHoldsOn(sku: string): Promise<number>;
  /** Units confirmed beyond what was received, over all levels, from the ledger alone. */
  oversold(): Promise<number>;
  /** Payments of these orders received before their hold's `expires_at` (the hold's id is the order's). */
  onTimePayments(orderIds: readonly string[]): Promise<OnTimePayment[]>;
  /** How many of these orders' payments are in each state. */
  paymentStateCounts(orderIds: readonly string[]): Promise<Record<string, number>>;
  /** The hold's row (its id is the order's), or undefined. */
  holdOf(orderId: string): Promise<{ status: string; expiresAt: Date } | undefined>;
  /** Whether the store decided the order's reserve (a hold or a recorded refusal): its RESERVE fence. */
  reserveFenced(orderId: string): Promise<boolean>;
  /** How many payments of orders `prefix%` are in each state. */
  paymentStateCountsLike(prefix: string): Promise<Record<string, number>>;
  /** These orders' payments still PENDING. */
  pendingPaymentsOf(orderIds: readonly string[]): Promise<{ orderId: string; paymentId: string }[]>;
  /** Locks one campaign's row FOR UPDATE from a session of its own for `ms` (or until `release()`); resolves once held. */
  lockCampaign(id: string, ms: number): Promise<RowLock>;
  /** CONFIRM ledger rows per hold on `sku`. */
  confirmsOn(sku: string): Promise<{ reference: string; n: number }[]>;
  /** Settlement results of these orders' payment events. */
  paymentEventResults(orderIds: readonly string[]): Promise<string[]>;
  /** CONFIRMED payments of orders `prefix%` whose hold has no CONFIRM in the ledger. */
  unbackedPayments(prefix: string): Promise<string[]>;
  /** Holds `prefix%` confirmed in the ledger without a CONFIRMED payment. */
  unpaidConfirms(prefix: string): Promise<string[]>;
  /** Ends every session the service processes have on the database now; how many. */
  killServiceSessions(): Promise<number>;
  /** Locks `sku`'s levels FOR UPDATE in a transaction of its own. */
  lockLevels(sku: string): Promise<LevelLock>;
  /**
   * Everything a request could change, in one cheap row (scenario 8: a 4xx must leave it as it
   * was): counts, level figures, names and places digested, lots, safety stock. Refusal fences
   * are left out: they record a no.
   */
  stateHash(): Promise<string>;
  /** The highest event position given so far (0 when none). */
  eventHead(): Promise<bigint>;
  /** The stored envelopes of the events positioned in (after, upTo], in position order. */
  positionedEvents(after: bigint, upTo: bigint): Promise<CloudEvent[]>;
  /** The version of `sku`'s level (its first warehouse's), or undefined when it has none. */
  levelVersion(sku: string): Promise<number | undefined>;
  close(): Promise<void>;
}

/** PostgreSQL: the suite's original queries, through the service's own Db (Prisma) as the owner. */
export function postgresProbe(db: Db, url: string, serviceAppName: string): StoreProbe {
  return {
    store: 'postgresql',
    paymentsOf: (ids) =>
      db.payment.findMany({
        where: { orderId: { in: [...ids] } },
        select: { orderId: true, paymentId: true, state: true },
      }),
    async pendingPayments() {
      const rows = await db.payment.findMany({
        where: { state: 'PENDING' },
        select: { orderId: true, paymentId: true },
        orderBy: { receivedAt: 'asc' },
      });
      return rows.map((p) => `${p.orderId}/${p.paymentId}`);
    },
    async storedPayments(ids) {
      const rows = await db.payment.findMany({
        where: { orderId: { in: [...ids] }, eventId: { in: ids.map((id) => `ev-${id}`) } },
        select: { orderId: true },
      });
      return new Set(rows.map((p) => p.orderId));
    },
    cacheOutboxCount: () => db.cacheOutbox.count(),
    skus: async () => (await db.product.findMany({ select: { sku: true } })).map((p) => p.sku),
    expiredHolds: () => db.reservation.count({ where: { status: 'RESERVED', expiresAt: { lt: new Date() } } }),
    openHoldsOn: (sku) => db.reservation.count({ where: { status: 'RESERVED', lines: { some: { sku } } } }),
    async oversold() {
      const rows = await db.$queryRaw<{ units: number }[]>`
        SELECT COALESCE(SUM(GREATEST(0, sold - received)), 0)::int AS units FROM (
          SELECT sku, warehouse_code,
                 SUM(CASE WHEN reason = 'CONFIRM' THEN -on_hand_delta ELSE 0 END) AS sold,
                 SUM(CASE WHEN reason LIKE 'RECEIVE:%' THEN on_hand_delta ELSE 0 END) AS received
            FROM stock_movements GROUP BY sku, warehouse_code) per_level`;
      return rows[0].units;
    },
    onTimePayments: (ids) => db.$queryRaw<OnTimePayment[]>`
      SELECT p.order_id, p.payment_id, p.state, p.reason, p.reservation_id,
             (EXTRACT(EPOCH FROM (r.expires_at - p.received_at)) * 1000)::int AS early_ms
        FROM payments p JOIN reservations r ON r.id = p.order_id
       WHERE p.order_id = ANY(${[...ids]}::text[]) AND p.received_at < r.expires_at`,
    async paymentStateCounts(ids) {
      const states = await db.payment.groupBy({ by: ['state'], where: { orderId: { in: [...ids] } }, _count: true });
      return Object.fromEntries(states.map((s) => [s.state, s._count]));
    },
    holdOf: async (id) =>
      (await db.reservation.findUnique({ where: { id }, select: { status: true, expiresAt: true } })) ?? undefined,
    reserveFenced: async (id) => (await db.operationFence.count({ where: { serial: id, operation: 'RESERVE' } })) > 0,
    async paymentStateCountsLike(prefix) {
      const states = await db.payment.groupBy({
        by: ['state'],
        where: { orderId: { startsWith: prefix } },
        _count: true,
      });
      return Object.fromEntries(states.map((s) => [s.state, s._count]));
    },
    pendingPaymentsOf: (ids) =>
      db.payment.findMany({
        where: { orderId: { in: [...ids] }, state: 'PENDING' },
        select: { orderId: true, paymentId: true },
      }),
    async lockCampaign(id, ms) {
      const locker = new Client({ connectionString: url, application_name: 'stockhold-chaos-locker' });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        await locker.query('SELECT 1 FROM campaigns WHERE id = $1 FOR UPDATE', [id]);
      } catch (err) {
        await locker.end();
        throw err;
      }
      return timedLock(
        ms,
        () => locker.query('COMMIT'),
        () => locker.end(),
      );
    },
    confirmsOn: (sku) => db.$queryRaw<{ reference: string; n: number }[]>`
      SELECT reference, COUNT(*)::int AS n FROM stock_movements
       WHERE reason = 'CONFIRM' AND sku = ${sku} GROUP BY reference`,
    async paymentEventResults(ids) {
      const rows = await db.paymentEvent.findMany({ where: { orderId: { in: [...ids] } }, select: { result: true } });
      return rows.map((e) => e.result);
    },
    async unbackedPayments(prefix) {
      const like = `${prefix}%`;
      const rows = await db.$queryRaw<{ order_id: string }[]>`
        SELECT p.order_id FROM payments p
         WHERE p.order_id LIKE ${like} AND p.state = 'CONFIRMED'
           AND NOT EXISTS (SELECT 1 FROM stock_movements m WHERE m.reason = 'CONFIRM' AND m.reference = p.reservation_id)`;
      return rows.map((r) => r.order_id);
    },
    async unpaidConfirms(prefix) {
      const like = `${prefix}%`;
      const rows = await db.$queryRaw<{ reference: string }[]>`
        SELECT DISTINCT m.reference FROM stock_movements m
         WHERE m.reason = 'CONFIRM' AND m.reference LIKE ${like}
           AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.state = 'CONFIRMED' AND p.reservation_id = m.reference)`;
      return rows.map((r) => r.reference);
    },
    async killServiceSessions() {
      const rows = await db.$queryRaw<{ n: number }[]>`
        SELECT COUNT(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n
          FROM pg_stat_activity WHERE application_name = ${serviceAppName} AND datname = current_database()`;
      return rows[0].n;
    },
    async lockLevels(sku) {
      const locker = new Client({ connectionString: url });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        await locker.query(`SELECT * FROM inventory_levels WHERE sku = $1 FOR UPDATE`, [sku]);
        const { rows } = await locker.query<{ last: Date; due: number }>(
          `SELECT max(r.expires_at) AS last, count(*) FILTER (WHERE r.expires_at > now())::int AS due
             FROM reservations r JOIN reservation_lines l ON l.reservation_id = r.id WHERE l.sku = $1`,
          [sku],
        );
        return {
          lastExpiry: rows[0].last,
          dueUnderLock: rows[0].due,
          async release() {
            try {
              await locker.query('COMMIT');
            } finally {
              await locker.end();
            }
          },
        };
      } catch (err) {
        await locker.end();
        throw err;
      }
    },
    async stateHash() {
      const rows = await db.$queryRaw<{ h: string }[]>`
        SELECT concat_ws('/',
          (SELECT count(*) FROM stock_movements), (SELECT count(*) FROM reservations),
          (SELECT count(*) FROM reservations WHERE status = 'RESERVED'), (SELECT count(*) FROM payment_events),
          (SELECT count(*) FROM products), (SELECT count(*) FROM warehouses),
          (SELECT coalesce(sum(on_hand * 7 + reserved * 13 + version), 0) FROM inventory_levels),
          (SELECT coalesce(string_agg(md5(name), '' ORDER BY sku), '') FROM products),
          (SELECT coalesce(string_agg(md5(concat_ws('|', code, name, region, priority, latitude, longitude)), '' ORDER BY code), '') FROM warehouses),
          (SELECT count(*) FROM transfers), (SELECT count(*) FROM campaigns),
          (SELECT coalesce(sum(quantity), 0) || ':' || count(*) FILTER (WHERE quarantined) FROM stock_lots),
          (SELECT coalesce(sum(safety_stock), 0) FROM inventory_levels)) AS h`;
      return rows[0].h;
    },
    eventHead: async () =>
      (await db.$queryRaw<{ h: bigint }[]>`SELECT COALESCE(max(position), 0)::bigint AS h FROM event_outbox`)[0].h,
    async positionedEvents(after, upTo) {
      const rows = await db.$queryRaw<{ event: CloudEvent }[]>`
        SELECT event FROM event_outbox WHERE position > ${after} AND position <= ${upTo} ORDER BY position`;
      return rows.map((r) => r.event);
    },
    async levelVersion(sku) {
      const level = await db.inventoryLevel.findFirst({ where: { sku }, select: { version: true } });
      return level === null ? undefined : Number(level.version);
    },
    close: async () => undefined,
  };
}

/**
 * MySQL/MariaDB: the same figures from the same tables in MySQL's dialect (no FILTER, no ::int,
 * COUNT is a BIGINT the pool reads as a number). `ownerUrl` is the database owner's URL: the
 * service user may not list or end other sessions, nor is it the one the suite breaks.
 */
export function mariadbProbe(ownerUrl: string, serviceUser: string): StoreProbe {
  const pool: Pool = createMariadbPool(ownerUrl, { connectionLimit: 4, lockWaitSeconds: 30 });
  const q = <T>(sql: string, values: unknown[] = []) => pool.query<T[]>(sql, values);
  const inList = (n: number) => Array.from({ length: Math.max(1, n) }, () => '?').join(', ');
  const idsOrNone = (ids: readonly string[]) => (ids.length > 0 ? [...ids] : ['\u0000none']);
  return {
    store: 'mariadb',
    async paymentsOf(ids) {
      const rows = await q<{ order_id: string; payment_id: string; state: string }>(
        `SELECT order_id, payment_id, state FROM payments WHERE order_id IN (${inList(ids.length)})`,
        idsOrNone(ids),
      );
      return rows.map((r) => ({ orderId: r.order_id, paymentId: r.payment_id, state: r.state }));
    },
    async pendingPayments() {
      const rows = await q<{ id: string }>(
        `SELECT CONCAT(order_id, '/', payment_id) AS id FROM payments WHERE state = 'PENDING' ORDER BY received_at`,
      );
      return rows.map((r) => r.id);
    },
    async storedPayments(ids) {
      const rows = await q<{ order_id: string }>(
        `SELECT order_id FROM payments WHERE order_id IN (${inList(ids.length)}) AND event_id = CONCAT('ev-', order_id)`,
        idsOrNone(ids),
      );
      return new Set(rows.map((r) => r.order_id));
    },
    cacheOutboxCount: async () => Number((await q<{ n: number }>('SELECT COUNT(*) AS n FROM cache_outbox'))[0].n),
    skus: async () => (await q<{ sku: string }>('SELECT sku FROM products ORDER BY sku')).map((r) => r.sku),
    expiredHolds: async () =>
      Number(
        (
          await q<{ n: number }>(
            `SELECT COUNT(*) AS n FROM reservations WHERE status = 'RESERVED' AND expires_at < UTC_TIMESTAMP(3)`,
          )
        )[0].n,
      ),
    openHoldsOn: async (sku) =>
      Number(
        (
          await q<{ n: number }>(
            `SELECT COUNT(*) AS n FROM reservations r
              WHERE r.status = 'RESERVED'
                AND EXISTS (SELECT 1 FROM reservation_lines l WHERE l.reservation_id = r.id AND l.sku = ?)`,
            [sku],
          )
        )[0].n,
      ),
    async oversold() {
      // Receipts are RECEIVE:<reason> on both stores (the stock-admin path writes the same reasons).
      const rows = await q<{ units: number }>(
        `SELECT COALESCE(SUM(GREATEST(0, sold - received)), 0) AS units FROM (
           SELECT sku, warehouse_code,
                  SUM(CASE WHEN reason = 'CONFIRM' THEN -on_hand_delta ELSE 0 END) AS sold,
                  SUM(CASE WHEN reason LIKE 'RECEIVE:%' THEN on_hand_delta ELSE 0 END) AS received
             FROM stock_movements GROUP BY sku, warehouse_code) per_level`,
      );
      return Number(rows[0].units);
    },
    async onTimePayments(ids) {
      const rows = await q<OnTimePayment>(
        `SELECT p.order_id, p.payment_id, p.state, p.reason, p.reservation_id,
                TIMESTAMPDIFF(MICROSECOND, p.received_at, r.expires_at) DIV 1000 AS early_ms
           FROM payments p JOIN reservations r ON r.id = p.order_id
          WHERE p.order_id IN (${inList(ids.length)}) AND p.received_at < r.expires_at`,
        idsOrNone(ids),
      );
      return rows.map((r) => ({ ...r, early_ms: Number(r.early_ms) }));
    },
    async paymentStateCounts(ids) {
      const rows = await q<{ state: string; n: number }>(
        `SELECT state, COUNT(*) AS n FROM payments WHERE order_id IN (${inList(ids.length)}) GROUP BY state`,
        idsOrNone(ids),
      );
      return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
    },
    async holdOf(id) {
      const [row] = await q<{ status: string; expires_at: Date }>(
        'SELECT status, expires_at FROM reservations WHERE id = ?',
        [id],
      );
      return row ? { status: row.status, expiresAt: row.expires_at } : undefined;
    },
    reserveFenced: async (id) =>
      (
        await q<{ one: number }>(`SELECT 1 AS one FROM operation_fences WHERE serial = ? AND operation = 'RESERVE'`, [
          id,
        ])
      ).length > 0,
    async paymentStateCountsLike(prefix) {
      const rows = await q<{ state: string; n: number }>(
        'SELECT state, COUNT(*) AS n FROM payments WHERE order_id LIKE ? GROUP BY state',
        [`${prefix}%`],
      );
      return Object.fromEntries(rows.map((r) => [r.state, Number(r.n)]));
    },
    async pendingPaymentsOf(ids) {
      const rows = await q<{ order_id: string; payment_id: string }>(
        `SELECT order_id, payment_id FROM payments WHERE order_id IN (${inList(ids.length)}) AND state = 'PENDING'`,
        idsOrNone(ids),
      );
      return rows.map((r) => ({ orderId: r.order_id, paymentId: r.payment_id }));
    },
    async lockCampaign(id, ms) {
      // A session of its own, outside the probe's pool: the lock must not hold a pool slot for its time.
      const conn = await connectMariadb(ownerUrl, { lockWaitSeconds: 30 });
      try {
        await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
        await conn.beginTransaction();
        await conn.query('SELECT 1 FROM campaigns WHERE id = ? FOR UPDATE', [id]);
      } catch (err) {
        await conn.end();
        throw err;
      }
      return timedLock(
        ms,
        () => conn.commit(),
        () => conn.end(),
      );
    },
    async confirmsOn(sku) {
      const rows = await q<{ reference: string; n: number }>(
        `SELECT reference, COUNT(*) AS n FROM stock_movements WHERE reason = 'CONFIRM' AND sku = ? GROUP BY reference`,
        [sku],
      );
      return rows.map((r) => ({ reference: r.reference, n: Number(r.n) }));
    },
    async paymentEventResults(ids) {
      const rows = await q<{ result: string }>(
        `SELECT result FROM payment_events WHERE order_id IN (${inList(ids.length)})`,
        idsOrNone(ids),
      );
      return rows.map((r) => r.result);
    },
    async unbackedPayments(prefix) {
      const rows = await q<{ order_id: string }>(
        `SELECT p.order_id FROM payments p
          WHERE p.order_id LIKE ? AND p.state = 'CONFIRMED'
            AND NOT EXISTS (SELECT 1 FROM stock_movements m WHERE m.reason = 'CONFIRM' AND m.reference = p.reservation_id)`,
        [`${prefix}%`],
      );
      return rows.map((r) => r.order_id);
    },
    async unpaidConfirms(prefix) {
      const rows = await q<{ reference: string }>(
        `SELECT DISTINCT m.reference FROM stock_movements m
          WHERE m.reason = 'CONFIRM' AND m.reference LIKE ?
            AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.state = 'CONFIRMED' AND p.reservation_id = m.reference)`,
        [`${prefix}%`],
      );
      return rows.map((r) => r.reference);
    },
    async killServiceSessions() {
      // MariaDB's pg_terminate_backend: KILL CONNECTION of each of the service user's sessions on
      // this database (idle in the pool or mid-statement), as a failover or a DBA would.
      const sessions = await q<{ id: number }>(
        `SELECT ID AS id FROM information_schema.PROCESSLIST WHERE USER = ? AND DB = DATABASE()`,
        [serviceUser],
      );
      let killed = 0;
      for (const { id } of sessions) {
        try {
          await pool.query(`KILL CONNECTION ${Number(id)}`);
          killed += 1;
        } catch (err) {
          // Gone between the list and the kill (ER_NO_SUCH_THREAD): nothing to end.
          if ((err as { errno?: number }).errno !== 1094) throw err;
        }
      }
      return killed;
    },
    async lockLevels(sku) {
      const conn: PoolConnection = await pool.getConnection();
      try {
        await conn.query('SET TRANSACTION ISOLATION LEVEL READ COMMITTED');
        await conn.beginTransaction();
        await conn.query('SELECT * FROM inventory_levels WHERE sku = ? FOR UPDATE', [sku]);
        const [row] = await conn.query<{ last: Date; due: number }[]>(
          `SELECT MAX(r.expires_at) AS last, SUM(CASE WHEN r.expires_at > UTC_TIMESTAMP(3) THEN 1 ELSE 0 END) AS due
             FROM reservations r JOIN reservation_lines l ON l.reservation_id = r.id WHERE l.sku = ?`,
          [sku],
        );
        return {
          lastExpiry: row.last,
          dueUnderLock: Number(row.due ?? 0),
          async release() {
            try {
              await conn.commit();
            } finally {
              await conn.release();
            }
          },
        };
      } catch (err) {
        await conn.release();
        throw err;
      }
    },
    async stateHash() {
      // PostgreSQL's string_agg of md5s in key order becomes an XOR of each row's 64-bit digest,
      // key included (a rename changes it, no two rows cancel): GROUP_CONCAT would be cut silently
      // at group_concat_max_len once the hostile requests have made enough products.
      const digest = (cols: string) =>
        `BIT_XOR(CAST(CONV(LEFT(MD5(CONCAT_WS('|', ${cols})), 16), 16, 10) AS UNSIGNED))`;
      const [row] = await q<{ h: string }>(
        `SELECT CONCAT_WS('/',
           (SELECT COUNT(*) FROM stock_movements), (SELECT COUNT(*) FROM reservations),
           (SELECT COUNT(*) FROM reservations WHERE status = 'RESERVED'), (SELECT COUNT(*) FROM payment_events),
           (SELECT COUNT(*) FROM products), (SELECT COUNT(*) FROM warehouses),
           (SELECT COALESCE(SUM(on_hand * 7 + reserved * 13 + version), 0) FROM inventory_levels),
           (SELECT ${digest('sku, name')} FROM products),
           (SELECT ${digest('code, name, region, priority, latitude, longitude')} FROM warehouses),
           (SELECT COUNT(*) FROM transfers), (SELECT COUNT(*) FROM campaigns),
           (SELECT CONCAT(COALESCE(SUM(quantity), 0), ':', COUNT(CASE WHEN quarantined THEN 1 END)) FROM stock_lots),
           (SELECT COALESCE(SUM(safety_stock), 0) FROM inventory_levels)) AS h`,
      );
      return String(row.h);
    },
    eventHead: async () =>
      BigInt((await q<{ h: number | bigint }>('SELECT COALESCE(MAX(position), 0) AS h FROM event_outbox'))[0].h),
    async positionedEvents(after, upTo) {
      // The envelope as the positioning pass wrote it (data/mariadb/events.ts): the text NATS was sent.
      const rows = await q<{ event: unknown }>(
        'SELECT event FROM event_outbox WHERE position > ? AND position <= ? ORDER BY position',
        [after.toString(), upTo.toString()],
      );
      return rows.map((r) => jsonValue(r.event) as CloudEvent);
    },
    async levelVersion(sku) {
      const [row] = await q<{ version: number | bigint }>(
        'SELECT version FROM inventory_levels WHERE sku = ? ORDER BY warehouse_code LIMIT 1',
        [sku],
      );
      return row === undefined ? undefined : Number(row.version);
    },
    close: () => pool.end(),
  };
}
