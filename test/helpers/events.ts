/**
 * What every committed change must have left in the event outbox (issue 18, item 1), checked
 * against the rows themselves: one stock.changed per (transaction, level); each one's causes
 * are exactly that transaction's ledger rows of the level and add up to its before → after;
 * a level's events chain (before = the previous after, versions with no hole) and end at the
 * level as it is. Returns the broken rules as sentences (none: []).
 */
import type { Db } from '../../data/db';

interface LevelEvent {
  txid: string;
  sku: string;
  warehouse_code: string;
  data: {
    fromVersion: number;
    toVersion: number;
    before: Record<string, number>;
    after: Record<string, number>;
    causes?: {
      movementId: string;
      onHandDelta: number;
      reservedDelta: number;
      incomingDelta: number;
      damagedDelta: number;
      qualityControlDelta: number;
    }[];
  };
  position: string | null;
}

export async function eventViolations(db: Db): Promise<string[]> {
  const problems: string[] = [];
  const events = await db.$queryRaw<LevelEvent[]>`
    SELECT txid::text, sku, warehouse_code, COALESCE(event->'data', data) AS data, position::text
      FROM event_outbox WHERE type = 'stock.changed' ORDER BY sku, warehouse_code, (data->>'fromVersion')::bigint`;
  const ledger = await db.$queryRaw<{ id: string; txid: string; sku: string; warehouse_code: string }[]>`
    SELECT id::text, txid::text, sku, warehouse_code FROM stock_movements WHERE txid IS NOT NULL ORDER BY id`;
  const levels = await db.$queryRaw<
    {
      sku: string;
      warehouse_code: string;
      version: bigint;
      on_hand: number;
      reserved: number;
      safety_stock: number;
      incoming: number;
      damaged: number;
      quality_control: number;
      available: number;
    }[]
  >`
    SELECT sku, warehouse_code, version, on_hand, reserved, safety_stock, incoming, damaged, quality_control,
           stockhold_available(inventory_levels) AS available
      FROM inventory_levels`;

  const key = (txid: string, sku: string, wh: string) => `${txid}|${sku}|${wh}`;
  const seen = new Set<string>();
  for (const e of events) {
    const k = key(e.txid, e.sku, e.warehouse_code);
    if (seen.has(k)) problems.push(`two stock.changed for ${k}`);
    seen.add(k);
    if (e.position === null) continue; // causes are resolved when positioned
    const mine = ledger.filter((m) => key(m.txid, m.sku, m.warehouse_code) === k).map((m) => m.id);
    const causes = e.data.causes ?? [];
    if (JSON.stringify(causes.map((c) => c.movementId)) !== JSON.stringify(mine))
      problems.push(
        `causes of ${k}: ${JSON.stringify(causes.map((c) => c.movementId))} ≠ ledger ${JSON.stringify(mine)}`,
      );
    for (const [field, delta] of [
      ['onHand', 'onHandDelta'],
      ['reserved', 'reservedDelta'],
      ['incoming', 'incomingDelta'],
      ['damaged', 'damagedDelta'],
      ['qualityControl', 'qualityControlDelta'],
    ] as const) {
      const sum = causes.reduce((s, c) => s + c[delta], 0);
      if (e.data.after[field] - e.data.before[field] !== sum)
        problems.push(`${k}: ${field} moved ${e.data.after[field] - e.data.before[field]} but its causes say ${sum}`);
    }
  }
  for (const m of ledger)
    if (!seen.has(key(m.txid, m.sku, m.warehouse_code))) problems.push(`ledger row ${m.id} has no stock.changed`);

  for (const l of levels) {
    const chain = events.filter((e) => e.sku === l.sku && e.warehouse_code === l.warehouse_code);
    let version = 0;
    let state: Record<string, number> | undefined;
    for (const e of chain) {
      if (e.data.fromVersion !== version || e.data.toVersion <= e.data.fromVersion)
        problems.push(
          `${l.sku}@${l.warehouse_code}: versions ${e.data.fromVersion}..${e.data.toVersion} after ${version}`,
        );
      if (state && JSON.stringify(state) !== JSON.stringify(e.data.before))
        problems.push(
          `${l.sku}@${l.warehouse_code}: before ${JSON.stringify(e.data.before)} ≠ previous after ${JSON.stringify(state)}`,
        );
      version = e.data.toVersion;
      state = e.data.after;
    }
    if (BigInt(version) !== l.version)
      problems.push(`${l.sku}@${l.warehouse_code}: events end at version ${version}, the level is at ${l.version}`);
    const now = {
      onHand: l.on_hand,
      reserved: l.reserved,
      safetyStock: l.safety_stock,
      incoming: l.incoming,
      damaged: l.damaged,
      qualityControl: l.quality_control,
      available: l.available,
    };
    if (state && (Object.keys(now) as (keyof typeof now)[]).some((f) => state[f] !== now[f]))
      problems.push(`${l.sku}@${l.warehouse_code}: last after ${JSON.stringify(state)} ≠ level ${JSON.stringify(now)}`);
  }
  return problems;
}

/** The events written since `afterId` (an outbox id) as `type subject`, in feed order (unpositioned last). */
export async function eventsSince(db: Db, afterId: bigint): Promise<string[]> {
  const rows = await db.$queryRaw<{ type: string; subject: string }[]>`
    SELECT type, subject FROM event_outbox WHERE id > ${afterId} ORDER BY position NULLS LAST, id`;
  return rows.map((r) => `${r.type} ${r.subject}`);
}

/** The highest outbox id so far. */
export async function lastEventId(db: Db): Promise<bigint> {
  const [row] = await db.$queryRaw<{ id: bigint }[]>`SELECT COALESCE(max(id), 0)::bigint AS id FROM event_outbox`;
  return row.id;
}
