/**
 * The ledger read back on MySQL/MariaDB (issue 22): data/stock/movements.ts's page query, newest
 * first by id, with the same filters. MariaDB's ledger has no transaction id (PostgreSQL's
 * `txid`): its rows answer `txId: null`, as rows written before it was recorded do there.
 */
import type { Pool } from 'mariadb';

/** data/stock/movements.ts MovementFilter, structurally. */
interface Filter {
  readonly sku?: string;
  readonly warehouseCode?: string;
  readonly lotCode?: string;
  readonly kind?: string;
  readonly reason?: string;
  readonly reference?: string;
  readonly actor?: string;
  readonly from?: Date;
  readonly to?: Date;
}

/** A ledger row as Prisma's model has it (what data/stock/movements.ts shapes). */
export interface MariadbMovementRow {
  readonly id: bigint;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly reason: string;
  readonly reference: string;
  readonly onHandDelta: number;
  readonly reservedDelta: number;
  readonly createdAt: Date;
  readonly lotCode: string | null;
  readonly incomingDelta: number;
  readonly onHandBefore: number | null;
  readonly onHandAfter: number | null;
  readonly reservedBefore: number | null;
  readonly reservedAfter: number | null;
  readonly incomingBefore: number | null;
  readonly incomingAfter: number | null;
  readonly actor: string | null;
  readonly damagedDelta: number;
  readonly qualityControlDelta: number;
}

/** LIKE patterns match `_` and `%` literally here (the reasons may contain them). */
const literal = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Up to `take` rows matching `f`, newest first, older than the row `beforeId` when given. */
export async function movementRowsOnMariadb(
  pool: Pool,
  f: Filter,
  take: number,
  beforeId?: string,
): Promise<MariadbMovementRow[]> {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (condition: string, ...values: unknown[]) => {
    where.push(condition);
    args.push(...values);
  };
  if (f.sku !== undefined) add('sku = ?', f.sku);
  if (f.warehouseCode !== undefined) add('warehouse_code = ?', f.warehouseCode);
  if (f.lotCode !== undefined) add('lot_code = ?', f.lotCode);
  if (f.reference !== undefined) add('reference = ?', f.reference);
  if (f.actor !== undefined) add('actor = ?', f.actor);
  if (f.from) add('created_at >= ?', f.from);
  if (f.to) add('created_at < ?', f.to);
  if (beforeId !== undefined) add('id < ?', Number(beforeId));
  if (f.kind) add('(reason = ? OR reason LIKE ?)', f.kind, `${literal(f.kind)}:%`);
  if (f.reason)
    add(
      '(reason = ? OR reason LIKE ? OR reason LIKE ?)',
      f.reason,
      `%:${literal(f.reason)}`,
      `%:${literal(f.reason)}:%`,
    );
  const rows = await pool.query<(Omit<MariadbMovementRow, 'id'> & { id: number })[]>(
    `SELECT id, sku, warehouse_code AS warehouseCode, reason, reference, on_hand_delta AS onHandDelta,
            reserved_delta AS reservedDelta, created_at AS createdAt, lot_code AS lotCode, incoming_delta AS incomingDelta,
            on_hand_before AS onHandBefore, on_hand_after AS onHandAfter, reserved_before AS reservedBefore,
            reserved_after AS reservedAfter, incoming_before AS incomingBefore, incoming_after AS incomingAfter, actor,
            damaged_delta AS damagedDelta, quality_control_delta AS qualityControlDelta
       FROM stock_movements ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY id DESC LIMIT ?`,
    [...args, take],
  );
  return rows.map((r) => ({ ...r, id: BigInt(r.id) }));
}
