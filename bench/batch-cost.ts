/**
 * Diagnostic, not a target: what one group-commit batch (`stockhold_hold_batch`, the SQL the
 * API's HoldBatcher sends) costs PostgreSQL, measured from Node on the bench database inside a
 * transaction that is rolled back (nothing is held, no saga is due; the commit itself is left
 * out). Tells how much of a hold's time is the database's and how much is everyone else's.
 */
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { requestedAllocation } from '../domain/allocation';
import { round } from './load';

/** A level and a campaign (on SKU BATCH_POOL_SKU) set up for this measurement only. */
export const BATCH_LEVEL_SKU = 'BATCH-LEVEL';
export const BATCH_POOL_SKU = 'BATCH-POOL';
export const BATCH_CAMPAIGN = 'bench-batch-cost';

export interface BatchCost {
  readonly kind: 'campaign' | 'level';
  readonly outcome: 'holds' | 'refusals';
  readonly size: number;
  /** Median round trip of one batch, ms. */
  readonly medianMs: number;
  /** Items per second one row could take at that cost, batches back to back (commit excluded). */
  readonly itemsPerSecond: number;
}

/** `n` hold-batch items of one order line each, as the API's HoldBatcher sends them. */
export function batchItems(n: number, quantity: number, sku: string, tag: string, campaignId?: string) {
  const expiresAt = new Date(Date.now() + 900_000).toISOString();
  return Array.from({ length: n }, (_, i) => {
    const orderId = `cost-${tag}-${i}-${Math.random().toString(36).slice(2, 8)}`;
    const line = { sku, warehouseCode: 'W1', quantity };
    const reserved = {
      status: 'reserved',
      reservationId: orderId,
      lines: [line],
      allocations: requestedAllocation([line]),
      expiresAt,
    };
    const order = { orderId, userId: `cu-${orderId}`, lines: [line], ...(campaignId ? { campaignId } : {}) };
    return {
      serial: orderId,
      orderId,
      userId: order.userId,
      quantity,
      expiresAt,
      reserved,
      saga: { order, ttlSeconds: 900, gateAdmitted: !!campaignId, reservation: reserved },
    };
  });
}

/** Holds and refusals on a level (plain orders), holds on a campaign pool (the gate answers flash refusals). */
const CASES = [
  ['level', 'holds'],
  ['level', 'refusals'],
  ['campaign', 'holds'],
] as const;

export async function batchCosts(databaseUrl: string, repeats = 15): Promise<BatchCost[]> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const out: BatchCost[] = [];
  try {
    for (const [kind, outcome] of CASES) {
      for (const size of [1, 100]) {
        const times: number[] = [];
        for (let r = 0; r < repeats; r++) {
          const quantity = outcome === 'holds' ? 1 : 10_000_000;
          const sku = kind === 'level' ? BATCH_LEVEL_SKU : BATCH_POOL_SKU;
          const batch = batchItems(
            size,
            quantity,
            sku,
            `${kind}-${outcome}-${size}-${r}`,
            kind === 'campaign' ? BATCH_CAMPAIGN : undefined,
          );
          await client.query('BEGIN');
          const t0 = performance.now();
          await client.query('SELECT stockhold_hold_batch($1, $2, $3, $4::jsonb)', [
            kind,
            kind === 'level' ? sku : BATCH_CAMPAIGN,
            kind === 'level' ? 'W1' : null,
            JSON.stringify(batch),
          ]);
          times.push(performance.now() - t0);
          await client.query('ROLLBACK');
        }
        const median = times.sort((a, b) => a - b)[Math.floor(times.length / 2)];
        out.push({ kind, outcome, size, medianMs: round(median), itemsPerSecond: round((size * 1000) / median) });
      }
    }
  } finally {
    await client.end();
  }
  return out;
}

/** How the sale's holds were grouped into batches, read back from PostgreSQL. */
export interface BatchesSeen {
  readonly batches: number;
  readonly meanSize: number;
  readonly maxSize: number;
  /** Time between the starts of consecutive batches on the row (its cycle: Node, driver, round trip, work, commit), ms. */
  readonly cycleMs: { readonly p50: number; readonly p95: number; readonly max: number };
  /** From the first winning request's send to the first batch's start, ms. */
  readonly firstBatchAfterMs: number;
}

/**
 * Every hold of one batch carries the batch transaction's start as `created_at`
 * (CURRENT_TIMESTAMP), so grouping the holds of an order-id prefix by it shows the batches.
 */
export async function batchesSeen(
  databaseUrl: string,
  orderIdPrefix: string,
  firstAdmission: number,
  until: number,
): Promise<BatchesSeen> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ at: Date; n: number }>(
      `SELECT created_at AS at, count(*)::int AS n FROM reservations WHERE order_id LIKE $1 AND order_id NOT LIKE '%:%' AND created_at <= $2 GROUP BY 1 ORDER BY 1`,
      [`${orderIdPrefix}%`, new Date(until)],
    );
    const cycles = rows
      .slice(1)
      .map((r, i) => r.at.getTime() - rows[i].at.getTime())
      .sort((a, b) => a - b);
    const at = (q: number) => (cycles.length ? cycles[Math.min(cycles.length - 1, Math.floor(q * cycles.length))] : 0);
    return {
      batches: rows.length,
      meanSize: rows.length ? round(rows.reduce((s, r) => s + r.n, 0) / rows.length, 1) : 0,
      maxSize: Math.max(0, ...rows.map((r) => r.n)),
      cycleMs: { p50: at(0.5), p95: at(0.95), max: cycles.at(-1) ?? 0 },
      firstBatchAfterMs: rows.length ? round(rows[0].at.getTime() - firstAdmission) : 0,
    };
  } finally {
    await client.end();
  }
}
