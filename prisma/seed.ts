/**
 * Demo data: two warehouses (with region, priority and coordinates for allocation), a few
 * products with stock, and a perishable, lot-tracked product with lots near expiry.
 * Idempotent: products and warehouses are upserts, receipts use fixed idempotency keys, and
 * a lot already there is not received again (its use-by date is relative to the first seed).
 * `npm start` runs it when the database has no products, then starts a demo transfer
 * through Temporal (scripts/demo-transfer.ts): a transfer is a workflow, not a row.
 *
 * CLI: `tsx prisma/seed.ts` (as the owner: MIGRATION_DATABASE_URL, else DATABASE_URL).
 */
import { upsertProduct, upsertWarehouse } from '../data/stock/catalog';
import { createDb, type Db } from '../data/db';
import { receiveStock } from '../data/stock/stock-admin';
import { loadDatabaseConfig } from '../config';
import { mariadbOf } from '../data/mariadb/db';
import { hasProductsOnMariadb, lotExistsOnMariadb } from '../data/mariadb/catalog';

const warehouses = [
  { code: 'SH-01', name: 'Shanghai Pudong', region: 'shanghai', priority: 1, latitude: 31.22, longitude: 121.54 },
  { code: 'HZ-01', name: 'Hangzhou Xiaoshan', region: 'zhejiang', priority: 2, latitude: 30.18, longitude: 120.26 },
];
const products = [
  { sku: 'STRAWBERRY-500G', name: 'Strawberries 500 g', stock: { 'SH-01': 300, 'HZ-01': 120 } },
  { sku: 'BLUEBERRY-125G', name: 'Blueberries 125 g', stock: { 'SH-01': 200, 'HZ-01': 80 } },
  { sku: 'MANGO-1KG', name: 'Mangoes 1 kg', stock: { 'SH-01': 50 } },
];
/** Lychees: alert 3 days before use-by, off sale 1 day before. */
const perishable = { sku: 'LYCHEE-1KG', name: 'Lychees 1 kg', alertDaysBeforeExpiry: 3, removalDaysBeforeExpiry: 1 };
const lots = [
  { warehouseCode: 'SH-01', lotCode: 'LY-2611-A', quantity: 40, daysToExpiry: 2 }, // near expiry: alert raised
  { warehouseCode: 'SH-01', lotCode: 'LY-2611-B', quantity: 60, daysToExpiry: 9 },
  { warehouseCode: 'HZ-01', lotCode: 'LY-2611-C', quantity: 30, daysToExpiry: 0.5 }, // past removal: written off
  { warehouseCode: 'HZ-01', lotCode: 'LY-2611-D', quantity: 25, daysToExpiry: 12 },
];

/** The transfer `npm start` puts in flight on a freshly seeded database (shipped, not received). */
export const demoTransfer = {
  transferId: 'demo-lychee-sh-hz',
  sku: 'LYCHEE-1KG',
  fromWarehouse: 'SH-01',
  toWarehouse: 'HZ-01',
  quantity: 20,
};

export async function seed(db: Db): Promise<void> {
  for (const { code, name, ...placement } of warehouses) await upsertWarehouse(db, code, name, placement);
  for (const p of products) {
    await upsertProduct(db, p.sku, p.name);
    for (const [warehouseCode, quantity] of Object.entries(p.stock)) {
      await receiveStock(db, {
        idempotencyKey: `seed-${p.sku}-${warehouseCode}`,
        sku: p.sku,
        warehouseCode,
        quantity,
        reason: 'initial',
      });
    }
  }
  const { sku, name, ...settings } = perishable;
  await upsertProduct(db, sku, name, { lotTracked: true, ...settings });
  for (const lot of lots) {
    const key = { sku, warehouseCode: lot.warehouseCode, lotCode: lot.lotCode };
    const maria = mariadbOf(db);
    const exists = maria
      ? await lotExistsOnMariadb(maria, key)
      : await db.stockLot.findUnique({ where: { sku_warehouseCode_lotCode: key } });
    if (exists) continue;
    const expiresAt = new Date(Date.now() + lot.daysToExpiry * 86_400_000).toISOString();
    await receiveStock(db, {
      idempotencyKey: `seed-${sku}-${lot.lotCode}`,
      ...key,
      quantity: lot.quantity,
      expiresAt,
      reason: 'initial',
    });
  }
}

export async function seedIfEmpty(db: Db): Promise<boolean> {
  const maria = mariadbOf(db);
  if (maria ? await hasProductsOnMariadb(maria) : (await db.product.count()) > 0) return false;
  await seed(db);
  return true;
}

if (require.main === module) {
  const config = loadDatabaseConfig();
  const db = createDb(config.migrationDatabaseUrl, { ssl: config.database.ssl });
  seed(db)
    .then(() => console.log('[seed] demo data in place'))
    .catch((err) => {
      console.error('[seed]', err);
      process.exitCode = 1;
    })
    .finally(() => db.$disconnect());
}
