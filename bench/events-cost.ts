/**
 * What the events cost the flash sale (issue 18: "flash-sale holds/s with events on stays
 * within 10% of the same run with them off"). The events are nothing but triggers in the hold
 * batch's transaction (docs/events.md "How it works"); nothing else on the request path changes
 * with them. So the bench times that transaction's work, `stockhold_hold_batch` on the flash
 * sale's shape (a campaign pool) and on a level, with the event triggers and the ledger's `txid`
 * enabled, then disabled (`ALTER TABLE … DISABLE TRIGGER`: the bench connects as the schema
 * owner), alternating every few batches so the machine's noise falls on both alike (as
 * `bench/events-overhead.ts`). Each batch is rolled back (nothing held, no saga due; the commit
 * is left out), and the triggers are enabled again in `finally`. Run while nothing else writes:
 * a change committed with the triggers off would miss its event.
 */
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import { BATCH_CAMPAIGN, BATCH_LEVEL_SKU, BATCH_POOL_SKU, batchItems } from './batch-cost';
import { round } from './load';

/** The event triggers the hold batch fires (bench/events-overhead.ts switches the same). */
const TRIGGERS = [
  ['inventory_levels', 'inventory_levels_event'],
  ['campaigns', 'campaigns_event'],
  ['reservations', 'reservations_event_insert'],
] as const;

async function setEvents(client: Client, on: boolean): Promise<void> {
  for (const [table, trigger] of TRIGGERS)
    await client.query(`ALTER TABLE ${table} ${on ? 'ENABLE' : 'DISABLE'} TRIGGER ${trigger}`);
  await client.query(
    on
      ? 'ALTER TABLE stock_movements ALTER COLUMN txid SET DEFAULT pg_current_xact_id()'
      : 'ALTER TABLE stock_movements ALTER COLUMN txid DROP DEFAULT',
  );
}

/** One kind of batch with the events on and off: median batch time and the holds/s it allows. */
export interface EventsCostKind {
  readonly batches: number;
  readonly medianMsOn: number;
  readonly medianMsOff: number;
  readonly holdsPerSecondOn: number;
  readonly holdsPerSecondOff: number;
  /** holdsPerSecondOn / holdsPerSecondOff. */
  readonly ratio: number;
}

export interface EventsCost {
  readonly batchSize: number;
  /** The flash sale's batches (campaign pool): `eventsOverheadRatio` in the summary. */
  readonly campaign: EventsCostKind;
  readonly level: EventsCostKind;
}

async function timeBatch(client: Client, kind: 'campaign' | 'level', size: number, tag: string): Promise<number> {
  const sku = kind === 'level' ? BATCH_LEVEL_SKU : BATCH_POOL_SKU;
  const batch = batchItems(size, 1, sku, tag, kind === 'campaign' ? BATCH_CAMPAIGN : undefined);
  await client.query('BEGIN');
  try {
    const started = performance.now();
    await client.query('SELECT stockhold_hold_batch($1, $2, $3, $4::jsonb)', [
      kind,
      kind === 'level' ? sku : BATCH_CAMPAIGN,
      kind === 'level' ? 'W1' : null,
      JSON.stringify(batch),
    ]);
    return performance.now() - started;
  } finally {
    await client.query('ROLLBACK');
  }
}

/**
 * `rounds` rounds, each a chunk of `chunk` batches of each kind with the events off and one with
 * them on (the order alternating by round). The first batch after a switch is not counted: the
 * switch invalidates the function's cached plans, in both directions alike.
 */
export async function eventsCost(databaseUrl: string, rounds: number, chunk = 10, size = 50): Promise<EventsCost> {
  const client = new Client({ connectionString: databaseUrl, application_name: 'bench-events-cost' });
  await client.connect();
  const times: Record<string, number[]> = { 'campaign on': [], 'campaign off': [], 'level on': [], 'level off': [] };
  try {
    for (let r = 0; r < rounds; r++) {
      for (const on of r % 2 === 0 ? [false, true] : [true, false]) {
        await setEvents(client, on);
        for (const kind of ['campaign', 'level'] as const) {
          await timeBatch(client, kind, size, `ev-${r}-${on}-${kind}-warm`);
          for (let b = 0; b < chunk; b++)
            times[`${kind} ${on ? 'on' : 'off'}`].push(
              await timeBatch(client, kind, size, `ev-${r}-${on}-${kind}-${b}`),
            );
        }
      }
    }
  } finally {
    await setEvents(client, true);
    await client.end();
  }
  return summariseEventsCost(times, size);
}

/**
 * Batch times (ms) by `'campaign on'`, `'campaign off'`, `'level on'`, `'level off'` → the
 * figures both stores report (bench/mariadb-events-cost.ts times MariaDB's the same way).
 */
export function summariseEventsCost(times: Record<string, number[]>, size: number): EventsCost {
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const of = (kind: string): EventsCostKind => {
    const [on, off] = [median(times[`${kind} on`]), median(times[`${kind} off`])];
    const [hOn, hOff] = [on > 0 ? (size * 1000) / on : 0, off > 0 ? (size * 1000) / off : 0];
    return {
      batches: times[`${kind} on`].length,
      medianMsOn: round(on, 3),
      medianMsOff: round(off, 3),
      holdsPerSecondOn: round(hOn),
      holdsPerSecondOff: round(hOff),
      ratio: hOff > 0 ? round(hOn / hOff, 3) : 0,
    };
  };
  return { batchSize: size, campaign: of('campaign'), level: of('level') };
}
