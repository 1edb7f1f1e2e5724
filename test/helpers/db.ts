/**
 * Database fixtures for tests on the real store: PostgreSQL, or MariaDB when the suite runs in
 * the `mariadb` jest project (TEST_STORE=mariadb): each fixture goes through the service's own
 * data functions (which hand over to MariaDB) or has a MariaDB form here.
 */
import { upsertProduct, upsertWarehouse } from '../../data/stock/catalog';
import { createCampaign } from '../../data/campaigns/campaigns';
import { receiveStock } from '../../data/stock/stock-admin';
import { createDb, type Db } from '../../data/db';
import { findDrifts } from '../../data/stock/reconcile';
import { mariadbOf } from '../../data/mariadb/db';
import { TEST_DATABASE_URL, TEST_STORE } from './env';
import { levelOf, mariadbServiceDb, truncateMariadb } from './mariadb';
import { withModelDelegates } from './matrix-db';

/** The test store's `Db`: PostgreSQL's as its owner, or MariaDB's service user's in the `mariadb` project. */
export function testDb(maxConnections = 20): Db {
  if (TEST_STORE === 'mariadb') return withModelDelegates(mariadbServiceDb(maxConnections));
  return createDb(TEST_DATABASE_URL, { maxConnections });
}

/**
 * Empties every table (TRUNCATE: the ledger refuses DELETE by design). TRUNCATE locks every
 * table at once; a background loop of the suite before (a relay, a retention pass still
 * closing) can deadlock with it or hold a lock past the timeout: PostgreSQL rolls one side
 * back, and the reset is simply run again.
 */
export async function resetDb(db: Db): Promise<void> {
  if (mariadbOf(db)) return truncateMariadb(TABLES);
  await endLeakedTransactions(db);
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await truncateAll(db);
    } catch (err) {
      const said = `${(err as { meta?: { code?: string } }).meta?.code ?? ''} ${String(err)}`;
      if (attempt >= 5 || !/40P01|55P03|deadlock detected|lock timeout/.test(said)) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
  }
}

/**
 * A session of the test database left idle inside a transaction for half a minute is a leak of
 * an earlier suite that failed midway (a connection it never ended): its locks would keep every
 * later reset waiting, and every later suite failing. It is ended, and said so.
 */
async function endLeakedTransactions(db: Db): Promise<void> {
  // The leaks are chosen first, behind a MATERIALIZED fence: in one WHERE clause the planner
  // pushed pg_terminate_backend below the database and age filters (they need the join with
  // pg_database), and it ended every session idle in a transaction on the server, in any
  // database — another checkout's tests and their row-lock blockers included.
  const ended = await db.$queryRaw<{ pid: number; query: string }[]>`
    WITH leaked AS MATERIALIZED (
      SELECT pid, left(query, 120) AS query FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid()
         AND state LIKE 'idle in transaction%' AND state_change < now() - interval '30 seconds')
    SELECT pid, query FROM leaked WHERE pg_terminate_backend(pid)`;
  for (const { pid, query } of ended)
    console.warn(
      `resetDb: ended session ${pid}, idle in a transaction for 30 s+ (a leak of an earlier suite): ${query}`,
    );
}

/** Every table a test may write (the same names on both stores). */
const TABLES = [
  'stock_movements',
  'stock_lots',
  'stock_alerts',
  'transfers',
  'reconciliation_runs',
  'operation_fences',
  'return_lines',
  'reservation_lines',
  'reservations',
  'payment_events',
  'payments',
  'payment_deliveries',
  'saga_starts',
  'hold_extensions',
  'campaign_user_counts',
  'campaigns',
  'inventory_levels',
  'products',
  'warehouses',
  'cache_outbox',
  'cache_checks',
  'api_keys',
  'admin_audit',
  'event_outbox',
  'event_channel_cursors',
  'event_deliveries',
  'event_subscriptions',
] as const;

async function truncateAll(db: Db): Promise<void> {
  await db.$executeRawUnsafe(`TRUNCATE ${TABLES.join(', ')} RESTART IDENTITY CASCADE`);
}

/** Creates a product and warehouse as needed and receives `onHand` units. */
export async function stock(db: Db, sku: string, warehouseCode: string, onHand: number): Promise<void> {
  await upsertProduct(db, sku, sku);
  await upsertWarehouse(db, warehouseCode, warehouseCode);
  await receiveStock(db, {
    idempotencyKey: `fixture-${sku}-${warehouseCode}-${onHand}`,
    sku,
    warehouseCode,
    quantity: onHand,
    reason: 'fixture',
  });
}

/** A flash sale on `sku` in `warehouseCode`, open since a minute ago for an hour (its quota set aside). */
export async function openFlashSale(
  db: Db,
  id: string,
  sku: string,
  warehouseCode: string,
  quota: number,
  perUserLimit: number,
): Promise<void> {
  const now = Date.now();
  await createCampaign(db, {
    id,
    kind: 'FLASH_SALE',
    sku,
    warehouseCode,
    startsAt: new Date(now - 60_000).toISOString(),
    endsAt: new Date(now + 3_600_000).toISOString(),
    quota,
    perUserLimit,
  });
}

/** A lot-tracked product that alerts `alertDays` and is removed `removalDays` before use-by. */
export async function perishable(db: Db, sku: string, alertDays = 3, removalDays = 1): Promise<void> {
  await upsertProduct(db, sku, sku, {
    lotTracked: true,
    alertDaysBeforeExpiry: alertDays,
    removalDaysBeforeExpiry: removalDays,
  });
}

const DAY_MS = 24 * 3600 * 1000;

/** Receives `quantity` into a lot whose use-by date is `days` from now (fractions allowed). */
export async function receiveLot(
  db: Db,
  sku: string,
  warehouseCode: string,
  lotCode: string,
  quantity: number,
  days: number,
) {
  await upsertWarehouse(db, warehouseCode, warehouseCode);
  const expiresAt = new Date(Date.now() + days * DAY_MS).toISOString();
  return receiveStock(db, {
    idempotencyKey: `lot-${sku}-${warehouseCode}-${lotCode}-${quantity}`,
    sku,
    warehouseCode,
    lotCode,
    expiresAt,
    quantity,
    reason: 'fixture',
  });
}

export interface LevelRow {
  onHand: number;
  reserved: number;
}

export async function level(db: Db, sku: string, warehouseCode: string): Promise<LevelRow> {
  const maria = mariadbOf(db);
  if (maria) return levelOf(maria, sku, warehouseCode);
  const l = await db.inventoryLevel.findUniqueOrThrow({ where: { sku_warehouseCode: { sku, warehouseCode } } });
  return { onHand: l.onHand, reserved: l.reserved };
}

/**
 * The invariants every test ends with, checked by the production reconciliation query
 * (data/stock/reconcile.ts): on-hand, reserved and incoming = Σ ledger; reserved = Σ
 * active holds; incoming = Σ transfers in transit; lots sum to on-hand and each lot = Σ its
 * ledger rows; nothing negative. Returns the drifts.
 */
export async function invariantViolations(db: Db): Promise<unknown[]> {
  return (await findDrifts(db)).drifts;
}
