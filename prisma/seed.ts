/**
 * Demo data: two warehouses and a few products with stock. Idempotent: products and
 * warehouses are upserts and receipts use fixed idempotency keys, so running it twice
 * changes nothing. `npm start` runs it when the database has no products.
 *
 * CLI: `tsx prisma/seed.ts` (reads DATABASE_URL).
 */
import { upsertProduct, upsertWarehouse } from '../activities/store/catalog';
import { receiveStock } from '../activities/store/stock-admin';
import { createDb, type Db } from '../activities/store/db';

const warehouses = [
  { code: 'SH-01', name: 'Shanghai Pudong' },
  { code: 'HZ-01', name: 'Hangzhou Xiaoshan' },
];
const products = [
  { sku: 'STRAWBERRY-500G', name: 'Strawberries 500 g', stock: { 'SH-01': 300, 'HZ-01': 120 } },
  { sku: 'BLUEBERRY-125G', name: 'Blueberries 125 g', stock: { 'SH-01': 200, 'HZ-01': 80 } },
  { sku: 'MANGO-1KG', name: 'Mangoes 1 kg', stock: { 'SH-01': 50 } },
];

export async function seed(db: Db): Promise<void> {
  for (const w of warehouses) await upsertWarehouse(db, w.code, w.name);
  for (const p of products) {
    await upsertProduct(db, p.sku, p.name);
    for (const [warehouseCode, quantity] of Object.entries(p.stock)) {
      await receiveStock(db, { idempotencyKey: `seed-${p.sku}-${warehouseCode}`, sku: p.sku, warehouseCode, quantity, reason: 'initial' });
    }
  }
}

export async function seedIfEmpty(db: Db): Promise<boolean> {
  if ((await db.product.count()) > 0) return false;
  await seed(db);
  return true;
}

if (require.main === module) {
  const db = createDb(process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/stockhold');
  seed(db)
    .then(() => console.log('[seed] demo data in place'))
    .catch((err) => {
      console.error('[seed]', err);
      process.exitCode = 1;
    })
    .finally(() => db.$disconnect());
}
