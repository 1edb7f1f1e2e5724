/**
 * The group-commit hold batch on MySQL/MariaDB (issue 22, docs/mysql.md): one CALL of the
 * stored procedure prisma/mysql/procedures/stockhold_hold_batch.sql per batch — one round
 * trip, its own READ COMMITTED transaction — and its SQLSTATEs decoded here, once.
 */
import type { Pool } from 'mariadb';
import { DomainError, ErrorCode } from '../../domain/errors';
import type { ReserveOutcome } from '../../domain/types';
import type { BatchItem } from '../orders/batch-item';
import { jsonValue } from './tx';

/** One queued single-line hold, as PostgreSQL's batch takes it (the saga's input kept opaque here). */
export type MariadbBatchItem = Omit<BatchItem, 'saga'> & { readonly saga: Record<string, unknown> };

/** Each item's outcome, in order: taken now, or what an earlier transaction recorded. */
export type MariadbBatchOutcome = ReserveOutcome | { readonly replayed: ReserveOutcome };

/** Which pool a batch takes from. */
export type MariadbBatchPool =
  | { readonly kind: 'campaign'; readonly campaignId: string }
  | { readonly kind: 'level'; readonly sku: string; readonly warehouseCode: string };

/** Runs one batch: every item gets an outcome, or the whole batch fails and nothing is recorded. */
export async function holdBatchOnMariadb(
  pool: Pool,
  target: MariadbBatchPool,
  items: readonly MariadbBatchItem[],
): Promise<MariadbBatchOutcome[]> {
  const args =
    target.kind === 'campaign' ? ['campaign', target.campaignId, null] : ['level', target.sku, target.warehouseCode];
  let result: unknown;
  try {
    result = await pool.query('CALL stockhold_hold_batch(?, ?, ?, ?)', [...args, JSON.stringify(items)]);
  } catch (err) {
    throw decodeBatchError(err, target);
  }
  // A CALL answers its result sets, then the OK packet.
  const rows = (result as { ord: number; outcome: unknown }[][])[0];
  return rows.map((r) => jsonValue(r.outcome) as MariadbBatchOutcome);
}

/** The procedure's SQLSTATEs (its header): the caller's 404s; anything else as it came. */
function decodeBatchError(err: unknown, target: MariadbBatchPool): unknown {
  switch ((err as { sqlState?: string }).sqlState) {
    case 'SH001':
      return new DomainError(ErrorCode.CAMPAIGN_NOT_FOUND, 'no such campaign', {
        campaignId: target.kind === 'campaign' ? target.campaignId : undefined,
      });
    case 'SH002':
      return new DomainError(ErrorCode.UNKNOWN_PRODUCT, 'no such product', {
        sku: target.kind === 'level' ? target.sku : undefined,
      });
    case 'SH003':
      return new DomainError(ErrorCode.UNKNOWN_WAREHOUSE, 'no such warehouse', {
        warehouseCode: target.kind === 'level' ? target.warehouseCode : undefined,
      });
    default:
      return err;
  }
}
