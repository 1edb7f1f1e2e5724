/** Transfers as a list (GET /admin/transfers): newest first, one keyset page at a time (domain/cursor.ts). */
import { toPage, type KeyPart, type KeyValue, type Page } from '../../domain/cursor';
import type { Prisma } from '../../generated/prisma/client';
import type { Db } from '../db';
import { mariadbOf } from '../mariadb/db';
import { transferRowsOnMariadb } from '../mariadb/transfers';

export const TRANSFERS_LIST = 'transfers';
export const TRANSFERS_KEY: readonly KeyPart[] = ['instant', 'text'];

export interface TransferListRow {
  readonly transferId: string;
  readonly sku: string;
  readonly fromWarehouse: string;
  readonly toWarehouse: string;
  readonly quantity: number;
  readonly status: string;
  readonly receivedQuantity: number | null;
  readonly shortfallReason: string | null;
  readonly deadlineAt: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** One page of transfers (optionally at one stage, of one SKU), newest first. */
export async function listTransfers(
  db: Db,
  f: { status?: string; sku?: string },
  limit: number,
  after?: KeyValue[],
): Promise<Page<TransferListRow>> {
  const maria = mariadbOf(db);
  const keyset = after ? { createdAt: new Date(after[0]!), id: String(after[1]) } : undefined;
  const rows = maria
    ? await transferRowsOnMariadb(maria, f, limit + 1, keyset)
    : await db.transfer.findMany({
        where: whereOf(f, keyset),
        orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
        take: limit + 1,
      });
  return toPage(
    TRANSFERS_LIST,
    rows,
    limit,
    (t) => [t.createdAt.toISOString(), t.id],
    (t) => ({
      transferId: t.id,
      sku: t.sku,
      fromWarehouse: t.fromWarehouse,
      toWarehouse: t.toWarehouse,
      quantity: t.quantity,
      status: t.status,
      receivedQuantity: t.receivedQuantity,
      shortfallReason: t.shortfallReason,
      deadlineAt: t.deadlineAt?.toISOString() ?? null,
      createdAt: t.createdAt.toISOString(),
      updatedAt: t.updatedAt.toISOString(),
    }),
  );
}

function whereOf(
  f: { status?: string; sku?: string },
  after?: { createdAt: Date; id: string },
): Prisma.TransferWhereInput {
  const where: Prisma.TransferWhereInput = { status: f.status, sku: f.sku };
  if (after) where.OR = [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }];
  return where;
}
