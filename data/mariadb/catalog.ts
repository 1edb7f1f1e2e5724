/**
 * The catalogue's checks on MySQL/MariaDB (issue 22): data/stock/catalog.ts's
 * `assertCatalogued` for InnoDB, on a pool or inside a caller's transaction.
 */
import type { Pool, PoolConnection } from 'mariadb';
import { DomainError, ErrorCode } from '../../domain/errors';

/**
 * Fails 404 (UNKNOWN_PRODUCT, then UNKNOWN_WAREHOUSE) when a SKU or warehouse named does not
 * exist, as PostgreSQL's does: asked only once a request was refused (or for a warehouse nothing
 * else checks), so the hot path never pays for it.
 */
export async function assertCataloguedOnMariadb(
  db: Pool | PoolConnection,
  skus: readonly string[],
  warehouses: readonly string[],
): Promise<void> {
  const wanted = { skus: [...new Set(skus)], codes: [...new Set(warehouses)] };
  // `IN (?)` with an empty list is not SQL: a name no row has stands in for it.
  const none = ['\u0000'];
  const found = await db.query<{ kind: string; id: string }[]>(
    `SELECT 'sku' AS kind, sku AS id FROM products WHERE sku IN (?)
     UNION ALL SELECT 'warehouse', code FROM warehouses WHERE code IN (?)`,
    [wanted.skus.length ? wanted.skus : none, wanted.codes.length ? wanted.codes : none],
  );
  const known = new Set(found.map((r) => `${r.kind}\u0000${r.id}`));
  const sku = wanted.skus.find((s) => !known.has(`sku\u0000${s}`));
  if (sku !== undefined) throw new DomainError(ErrorCode.UNKNOWN_PRODUCT, `no product ${sku}`, { sku });
  const code = wanted.codes.find((c) => !known.has(`warehouse\u0000${c}`));
  if (code !== undefined)
    throw new DomainError(ErrorCode.UNKNOWN_WAREHOUSE, `no warehouse ${code}`, { warehouseCode: code });
}
