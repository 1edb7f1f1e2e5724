/** The bench database's fixture: stock, the sale's campaign, the batch-cost campaign and a campaign sold out before the run. */
import { upsertProduct, upsertWarehouse } from '../data/stock/catalog';
import type { Db } from '../data/db';
import { receiveStock } from '../data/stock/stock-admin';
import { signPayload } from '../platform/webhook-signature';
import { BATCH_CAMPAIGN, BATCH_LEVEL_SKU, BATCH_POOL_SKU } from './batch-cost';
import type { BenchOptions } from './options';
import { CAMPAIGN, PLAIN_SKU, SOLD_OUT_CAMPAIGN, WAREHOUSE, WARM_SKU } from './scenario';
import { SUSTAINED_SKU } from './sustained';
import type { BenchStack } from './stack';

export async function setup(stack: BenchStack, db: Db, o: BenchOptions): Promise<void> {
  await upsertWarehouse(db, WAREHOUSE, 'Bench warehouse');
  const stock = {
    FLASH: o.units + 1,
    [PLAIN_SKU]: o.plainUnits,
    [WARM_SKU]: 1,
    [BATCH_LEVEL_SKU]: 1_000_000,
    [BATCH_POOL_SKU]: 1_000,
    [SUSTAINED_SKU]: o.sustainedAttempts,
  };
  for (const [sku, quantity] of Object.entries(stock)) {
    await upsertProduct(db, sku, sku);
    await receiveStock(db, {
      idempotencyKey: `bench-${sku}`,
      sku,
      warehouseCode: WAREHOUSE,
      quantity,
      reason: 'bench',
    });
  }
  await createCampaign(stack, CAMPAIGN, 'FLASH', o.units, 2);
  await createCampaign(stack, BATCH_CAMPAIGN, BATCH_POOL_SKU, 1_000, 1);
  await sellOutCampaign(stack);
}

async function createCampaign(
  stack: BenchStack,
  id: string,
  sku: string,
  quota: number,
  perUserLimit: number,
): Promise<void> {
  const now = Date.now();
  const res = await fetch(`${stack.base}/admin/campaigns`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...stack.auth },
    body: JSON.stringify({
      id,
      sku,
      warehouseCode: WAREHOUSE,
      startsAt: new Date(now - 1000).toISOString(),
      endsAt: new Date(now + 3600_000).toISOString(),
      quota,
      perUserLimit,
    }),
  });
  if (res.status !== 201) throw new Error(`campaign ${id} not created: ${res.status} ${await res.text()}`);
}

/** A one-unit campaign, bought and paid for, so its gate answers SOLD_OUT with no saga running. */
async function sellOutCampaign(stack: BenchStack): Promise<void> {
  const json = { 'content-type': 'application/json' };
  await createCampaign(stack, SOLD_OUT_CAMPAIGN, 'FLASH', 1, 1);
  const won = await fetch(`${stack.base}/campaigns/${SOLD_OUT_CAMPAIGN}/orders`, {
    method: 'POST',
    headers: { ...json, ...stack.auth },
    body: JSON.stringify({ orderId: 'sold-out-1', userId: 'early-bird', quantity: 1 }),
  });
  if (won.status !== 201) throw new Error(`sell-out order not placed: ${won.status} ${await won.text()}`);
  const body = JSON.stringify({
    eventId: 'ev-sold-out-1',
    type: 'payment.succeeded',
    orderId: 'sold-out-1',
    paymentId: 'pay-sold-out-1',
    amountCents: 1,
  });
  const ts = Math.floor(Date.now() / 1000);
  const paid = await fetch(`${stack.base}/webhooks/payments`, {
    method: 'POST',
    headers: {
      ...json,
      'x-signature-timestamp': String(ts),
      'x-signature': signPayload(stack.webhookSecret, ts, body),
    },
    body,
  });
  if (paid.status !== 200) throw new Error(`sell-out order not paid: ${paid.status} ${await paid.text()}`);
}
