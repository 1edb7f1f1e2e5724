/**
 * The ledger read back (GET /admin/movements): who moved which units, when, why, and the level
 * after, newest first, one keyset page at a time (domain/cursor.ts). The rows of one
 * transaction share `txId`: one change (an order's hold over several lines, a transfer's ship)
 * reads as one group.
 */
import type { Prisma } from '../../generated/prisma/client';
import { toPage, type KeyPart, type KeyValue, type Page } from '../../domain/cursor';
import type { Db } from '../db';
import { mysqlPrismaOf } from '../mariadb/db';
import { movementRowsOnMariadb } from '../mariadb/movements';

export const MOVEMENTS_LIST = 'movements';
/** The sort key: the ledger row's id (descending). */
export const MOVEMENTS_KEY: readonly KeyPart[] = ['int'];

export interface MovementFilter {
  readonly sku?: string;
  readonly warehouseCode?: string;
  readonly lotCode?: string;
  /** What happened: the reason's first part (`RECEIVE`, `RESERVE`, `RELEASE`, `WRITE_OFF`…). */
  readonly kind?: string;
  /** Why: a part of the reason after `KIND:` (a receipt's reason, an adjustment's code, `EXPIRED`), or the whole reason. */
  readonly reason?: string;
  /** The business serial the row belongs to: an order id, a transfer id, an idempotency key. */
  readonly reference?: string;
  /** A key id, `bootstrap`, or `system:<writer>`. */
  readonly actor?: string;
  readonly from?: Date;
  readonly to?: Date;
}

export interface MovementView {
  readonly id: string;
  /** The transaction that wrote it: rows of one change share it (null on rows written before it was recorded). */
  readonly txId: string | null;
  readonly at: string;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly lotCode: string | null;
  readonly kind: string;
  readonly reason: string | null;
  readonly reference: string;
  /** Who: a key id, `bootstrap`, `system:<writer>`; null on rows written before actors were recorded. */
  readonly actor: string | null;
  readonly change: {
    readonly onHand: number;
    readonly reserved: number;
    readonly incoming: number;
    readonly damaged: number;
    readonly qualityControl: number;
  };
  /** The level after this row (null on rows written before the ledger recorded it). */
  readonly after: {
    readonly onHand: number | null;
    readonly reserved: number | null;
    readonly incoming: number | null;
  };
}

type Row = Prisma.StockMovementGetPayload<object>;

/** A filter as a Prisma `where` both stores' clients take (prisma/schema.prisma, prisma/mysql/schema.prisma). */
interface MovementWhere {
  sku?: string;
  warehouseCode?: string;
  lotCode?: string;
  reference?: string;
  actor?: string;
  createdAt?: { gte?: Date; lt?: Date };
  id?: { lt: bigint };
  AND: { OR: { reason: string | { startsWith: string } | { endsWith: string } | { contains: string } }[] }[];
}

/**
 * Prisma sends `startsWith`/`endsWith`/`contains` as LIKE patterns without escaping their
 * wildcards (on both stores): a `_` or `%` in a reason is meant literally, so it is escaped
 * here (`\` is LIKE's escape character on PostgreSQL and MySQL/MariaDB alike).
 */
const literal = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

function where(f: MovementFilter, after: KeyValue[] | undefined): MovementWhere {
  const and: MovementWhere['AND'] = [];
  if (f.kind) and.push({ OR: [{ reason: f.kind }, { reason: { startsWith: `${literal(f.kind)}:` } }] });
  if (f.reason) {
    const r = literal(f.reason);
    and.push({ OR: [{ reason: f.reason }, { reason: { endsWith: `:${r}` } }, { reason: { contains: `:${r}:` } }] });
  }
  return {
    sku: f.sku,
    warehouseCode: f.warehouseCode,
    lotCode: f.lotCode,
    reference: f.reference,
    actor: f.actor,
    createdAt: f.from || f.to ? { gte: f.from, lt: f.to } : undefined,
    id: after ? { lt: BigInt(after[0]!) } : undefined,
    AND: and,
  };
}

function view(m: Row & { txid: string | null }): MovementView {
  const colon = m.reason.indexOf(':');
  return {
    id: m.id.toString(),
    txId: m.txid,
    at: m.createdAt.toISOString(),
    sku: m.sku,
    warehouseCode: m.warehouseCode,
    lotCode: m.lotCode,
    kind: colon < 0 ? m.reason : m.reason.slice(0, colon),
    reason: colon < 0 ? null : m.reason.slice(colon + 1),
    reference: m.reference,
    actor: m.actor,
    change: {
      onHand: m.onHandDelta,
      reserved: m.reservedDelta,
      incoming: m.incomingDelta,
      damaged: m.damagedDelta,
      qualityControl: m.qualityControlDelta,
    },
    after: { onHand: m.onHandAfter, reserved: m.reservedAfter, incoming: m.incomingAfter },
  };
}

/** One page of the ledger, newest first, after the row `after` names (a decoded cursor). */
export async function listMovements(
  db: Db,
  filter: MovementFilter,
  limit: number,
  after?: KeyValue[],
): Promise<Page<MovementView>> {
  const maria = mysqlPrismaOf(db);
  if (maria) {
    const page = await movementRowsOnMariadb(maria, where(filter, after), limit + 1);
    return toPage(
      MOVEMENTS_LIST,
      page,
      limit,
      (m) => [m.id.toString()],
      (m) => view({ ...m, txid: null }),
    );
  }
  const rows = await db.stockMovement.findMany({
    where: where(filter, after),
    orderBy: { id: 'desc' },
    take: limit + 1,
  });
  // The transaction id is the ledger's `txid` (xid8, the one stock.changed events group their
  // causes by), a type Prisma's model cannot read: one more query for the page's rows.
  const ids = rows.map((m) => m.id);
  const txids = new Map(
    (
      await db.$queryRaw<
        { id: bigint; txid: string | null }[]
      >`SELECT id, txid::text AS txid FROM stock_movements WHERE id = ANY(${ids})`
    ).map((r) => [r.id, r.txid]),
  );
  return toPage(
    MOVEMENTS_LIST,
    rows,
    limit,
    (m) => [m.id.toString()],
    (m) => view({ ...m, txid: txids.get(m.id) ?? null }),
  );
}
