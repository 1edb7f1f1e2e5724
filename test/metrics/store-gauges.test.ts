/**
 * The gauges the alert rules and the dashboard read from PostgreSQL at scrape time
 * (platform/store-gauges.ts) move with the rows they count, on a real database.
 */
import { Registry } from 'prom-client';
import { reserveFromCampaign } from '../../data/campaigns/campaigns';
import type { Db } from '../../data/db';
import { confirmStock } from '../../data/orders/confirm';
import { releaseStock } from '../../data/orders/release';
import { reserveStock } from '../../data/orders/reservations';
import { registerStoreGauges } from '../../platform/store-gauges';
import { storeGaugeReader } from '../../data/store-gauges';
import { openFlashSale, resetDb, stock, testDb } from '../helpers/db';

let db: Db;
let registry: Registry;
beforeAll(() => {
  db = testDb(5);
});
afterAll(() => db.$disconnect());
beforeEach(async () => {
  await resetDb(db);
  registry = new Registry();
  registerStoreGauges(registry, storeGaugeReader(db), {
    graceSeconds: 60,
    maxAgeMs: 0,
    onError: (err) => {
      throw err;
    },
  });
});

/** The gauge's samples as a scrape reads them (collect() runs). */
async function read(name: string): Promise<Record<string, number>> {
  const metric = registry.getSingleMetric(name);
  if (!metric) throw new Error(`no metric ${name}`);
  const { values } = await metric.get();
  return Object.fromEntries(values.map((v) => [Object.values(v.labels).join(',') || '', v.value]));
}

const hold = (id: string, quantity: number, expiresInMs: number) =>
  reserveStock(db, {
    reservationId: id,
    orderId: id,
    userId: 'u1',
    lines: [{ sku: 'SKU', warehouseCode: 'W1', quantity }],
    expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
  });

describe('store gauges', () => {
  it('count holds, and holds past expiry + grace', async () => {
    await stock(db, 'SKU', 'W1', 10);
    expect(await read('stockhold_holds_active')).toEqual({ '': 0 });
    expect(await read('stockhold_holds_past_expiry')).toEqual({ '': 0 });

    await hold('live', 1, 600_000);
    // Expired 30 s ago: within the 60 s grace, not yet "past expiry".
    await hold('grace', 1, -30_000);
    await hold('stuck', 2, -120_000);
    expect(await read('stockhold_holds_active')).toEqual({ '': 3 });
    expect(await read('stockhold_holds_past_expiry')).toEqual({ '': 1 });

    await releaseStock(db, 'stuck', 'SWEEPER');
    expect(await read('stockhold_holds_active')).toEqual({ '': 2 });
    expect(await read('stockhold_holds_past_expiry')).toEqual({ '': 0 });
  });

  it('report each relay backlog and the age of its oldest row', async () => {
    expect(await read('stockhold_relay_backlog')).toEqual({ cache: 0, saga: 0 });
    await stock(db, 'SKU', 'W1', 10);
    await hold('o1', 1, 600_000);
    // Nothing relays here: the stock changes' cache invalidations wait in the outbox.
    expect((await read('stockhold_relay_backlog')).cache).toBeGreaterThan(0);

    await db.$executeRaw`INSERT INTO saga_starts (order_id, input, created_at) VALUES ('o1', '{}', now() - interval '90 seconds')`;
    expect((await read('stockhold_relay_backlog')).saga).toBe(1);
    expect((await read('stockhold_relay_oldest_seconds')).saga).toBeGreaterThanOrEqual(90);

    await db.$executeRaw`UPDATE saga_starts SET started_at = now()`;
    await db.$executeRaw`DELETE FROM cache_outbox`;
    expect(await read('stockhold_relay_backlog')).toEqual({ cache: 0, saga: 0 });
    expect(await read('stockhold_relay_oldest_seconds')).toEqual({ cache: 0, saga: 0 });
  });

  it('follow a campaign from held to sold (sell-through)', async () => {
    await stock(db, 'SKU', 'W1', 10);
    await openFlashSale(db, 'sale', 'SKU', 'W1', 4, 2);
    const key = 'sale,SKU,FLASH_SALE';
    expect(await read('stockhold_campaign_quota_units')).toEqual({ [key]: 4 });
    expect(await read('stockhold_campaign_sell_through_ratio')).toEqual({ [key]: 0 });

    const outcome = await reserveFromCampaign(db, {
      campaignId: 'sale',
      reservationId: 'c1',
      orderId: 'c1',
      userId: 'u1',
      lines: [{ sku: 'SKU', warehouseCode: 'W1', quantity: 1 }],
      expiresAt: new Date(Date.now() + 600_000).toISOString(),
    });
    expect(outcome.status).toBe('reserved');
    expect(await read('stockhold_campaign_held_units')).toEqual({ [key]: 1 });
    expect(await read('stockhold_campaign_sold_units')).toEqual({ [key]: 0 });

    await confirmStock(db, 'c1', 'pay-1');
    expect(await read('stockhold_campaign_held_units')).toEqual({ [key]: 0 });
    expect(await read('stockhold_campaign_sold_units')).toEqual({ [key]: 1 });
    expect(await read('stockhold_campaign_sell_through_ratio')).toEqual({ [key]: 0.25 });
  });
});
