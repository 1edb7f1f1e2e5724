/**
 * The ledger read back on MySQL/MariaDB (issue 22): data/stock/movements.ts's page query, newest
 * first by id, through Prisma's MySQL client (a plain read: no lock, one statement). The filter
 * is data/stock/movements.ts's own Prisma `where`, the same object on both stores; MariaDB's
 * text columns are utf8mb4_bin, so its `startsWith`/`contains` compare bytes as PostgreSQL's "C"
 * collation does. The rows answer `txId: null` (the caller maps them): MariaDB's `txid` is the
 * event writer's id (`@stockhold_txid`), not PostgreSQL's transaction id.
 */
import type { Prisma } from '../../generated/prisma-mysql/client';
import type { MysqlPrisma } from './db';

/** A ledger row as Prisma's model has it (what data/stock/movements.ts shapes). */
export type MariadbMovementRow = Omit<Prisma.StockMovementGetPayload<object>, 'txid'>;

/** Up to `take` rows matching `where`, newest first. */
export function movementRowsOnMariadb(
  prisma: MysqlPrisma,
  where: Prisma.StockMovementWhereInput,
  take: number,
): Promise<MariadbMovementRow[]> {
  return prisma.stockMovement.findMany({ where, orderBy: { id: 'desc' }, take, omit: { txid: true } });
}
