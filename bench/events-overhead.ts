/**
 * What events cost the hold path (issue 18: "flash-sale holds/s with events on must stay within
 * 10% of events off"). Times `stockhold_hold_batch` — level batches and flash-sale (campaign)
 * batches, 2 in flight per row as HOLD_BATCHES_IN_FLIGHT — with the event triggers and the
 * ledger's txid enabled, then disabled (ALTER TABLE … DISABLE TRIGGER: needs the schema owner),
 * alternating rounds to spread the machine's noise over both. Writes nothing but its own rows
 * into the database it is given, which it empties first: never point it at real data.
 *
 *   node --import tsx bench/events-overhead.ts postgresql://postgres@127.0.0.1:5432/stockhold_scratch [chunks] [batchSize]
 */
import { Pool } from 'pg';

const url = process.argv[2];
const SIZE = Number(process.argv[4] ?? 50);
const ROUNDS = Number(process.argv[3] ?? 40);
if (!url) throw new Error('usage: bench/events-overhead.ts <database url of a scratch database> [chunks] [batchSize]');

const TRIGGERS = [
  ['inventory_levels', 'inventory_levels_event'],
  ['campaigns', 'campaigns_event'],
  ['reservations', 'reservations_event_insert'],
] as const;

let serial = 0;
function items(sku: string, campaignId?: string) {
  return Array.from({ length: SIZE }, () => {
    const orderId = `bench-${++serial}`;
    const line = { sku, warehouseCode: 'W1', quantity: 1 };
    const expiresAt = new Date(Date.now() + 900_000).toISOString();
    const reserved = { status: 'reserved', reservationId: orderId, lines: [line], allocations: [], expiresAt };
    const order = { orderId, userId: orderId, lines: [line], ...(campaignId ? { campaignId } : {}) };
    return {
      serial: orderId,
      orderId,
      userId: orderId,
      quantity: 1,
      expiresAt,
      reserved,
      saga: { order, ttlSeconds: 900 },
      actor: 'bench',
    };
  });
}

async function setEvents(pool: Pool, on: boolean): Promise<void> {
  for (const [table, trigger] of TRIGGERS)
    await pool.query(`ALTER TABLE ${table} ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${trigger}`);
  await pool.query(
    on
      ? 'ALTER TABLE stock_movements ALTER COLUMN txid SET DEFAULT pg_current_xact_id()'
      : 'ALTER TABLE stock_movements ALTER COLUMN txid DROP DEFAULT',
  );
}

/** Milliseconds of each of `count` batches on one row, one after another. */
async function timeBatches(pool: Pool, kind: 'level' | 'campaign', count: number): Promise<number[]> {
  const [p, wh, sku, campaign] =
    kind === 'level' ? ['BL', 'W1', 'BL', undefined] : ['bench-fs', null, 'BF', 'bench-fs'];
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const body = JSON.stringify(items(sku, campaign));
    const started = process.hrtime.bigint();
    await pool.query('SELECT stockhold_hold_batch($1, $2, $3, $4::jsonb)', [kind, p, wh, body]);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return times;
}

/** Empties the tables a round writes and lays out the two rows: every round starts alike. */
async function reset(pool: Pool): Promise<void> {
  await pool.query(`TRUNCATE stock_movements, reservation_lines, reservations, operation_fences, saga_starts, campaign_user_counts, campaigns,
                            inventory_levels, products, warehouses, cache_outbox, event_outbox RESTART IDENTITY CASCADE`);
  await pool.query(`INSERT INTO warehouses (code, name) VALUES ('W1', 'W1')`);
  await pool.query(`INSERT INTO products (sku, name) VALUES ('BL', 'BL'), ('BF', 'BF')`);
  await pool.query(
    `INSERT INTO inventory_levels (sku, warehouse_code, on_hand, reserved) VALUES ('BL', 'W1', 1000000000, 0), ('BF', 'W1', 1000000000, 100000000)`,
  );
  await pool.query(`INSERT INTO campaigns (id, sku, warehouse_code, starts_at, ends_at, quota, per_user_limit, remaining)
                    VALUES ('bench-fs', 'BF', 'W1', now() - interval '1 minute', now() + interval '1 day', 100000000, 10, 100000000)`);
  await pool.query('VACUUM ANALYZE');
}

async function main(): Promise<void> {
  const pool = new Pool({ connectionString: url, max: 3 });
  // Events on and off alternate every CHUNK batches, so the machine's load and the tables'
  // growth fall on both alike; the median batch is compared.
  const CHUNK = 10;
  const results: Record<string, number[]> = { 'level on': [], 'level off': [], 'campaign on': [], 'campaign off': [] };
  try {
    await reset(pool);
    for (let c = 0; c < ROUNDS; c++) {
      for (const on of c % 2 === 0 ? [false, true] : [true, false]) {
        await setEvents(pool, on);
        for (const kind of ['level', 'campaign'] as const)
          results[`${kind} ${on ? 'on' : 'off'}`].push(...(await timeBatches(pool, kind, CHUNK)));
      }
    }
  } finally {
    await setEvents(pool, true);
    await pool.end();
  }
  const quantile = (xs: number[], q: number) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length * q)];
  for (const kind of ['level', 'campaign']) {
    const [on, off] = [results[`${kind} on`], results[`${kind} off`]];
    const [mOn, mOff] = [quantile(on, 0.5), quantile(off, 0.5)];
    console.log(
      `${kind} batches of ${SIZE}: median ${mOff.toFixed(2)} ms off, ${mOn.toFixed(2)} ms on (${(((mOn - mOff) / mOff) * 100).toFixed(1)}%); ` +
        `p25 ${quantile(off, 0.25).toFixed(2)} / ${quantile(on, 0.25).toFixed(2)} ms; n = ${off.length} / ${on.length}`,
    );
  }
}

void main();
