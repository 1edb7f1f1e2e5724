/**
 * Reconciliation's invariants on MySQL/MariaDB (issue 22): the part of data/stock/reconcile.ts
 * the MariaDB store has so far. Each row returned is a drift; a clean store returns none.
 * Read in one REPEATABLE READ snapshot (MySQL's consistent read), so the levels, the ledger
 * and the holds are compared as of one moment.
 */
import type { Pool } from 'mariadb';

/** One broken invariant: which, and on what. */
export interface MariadbDrift {
  readonly kind: 'LEDGER_VS_LEVEL' | 'POOL_VS_HOLDS' | 'USER_COUNT_VS_HOLDS';
  readonly subject: string;
}

const CHECKS = `
SELECT 'LEDGER_VS_LEVEL' AS kind, CONCAT(il.sku, '@', il.warehouse_code) AS subject
  FROM inventory_levels il
  LEFT JOIN (SELECT sku, warehouse_code, SUM(on_hand_delta) AS oh, SUM(reserved_delta) AS r
               FROM stock_movements GROUP BY sku, warehouse_code) m
    ON m.sku = il.sku AND m.warehouse_code = il.warehouse_code
 WHERE il.on_hand <> COALESCE(m.oh, 0) OR il.reserved <> COALESCE(m.r, 0)
UNION ALL
-- An open flash sale's quota is its pool plus the holds taken from it; once ended, its pool
-- went back to the level (endCampaign) and later releases go there too, so only open ones.
SELECT 'POOL_VS_HOLDS', c.id
  FROM campaigns c
 WHERE c.kind = 'FLASH_SALE' AND c.status = 'OPEN' AND c.quota <> c.remaining + (
   SELECT COALESCE(SUM(rl.quantity), 0) FROM reservations r JOIN reservation_lines rl ON rl.reservation_id = r.id
    WHERE r.campaign_id = c.id AND r.status IN ('RESERVED', 'CONFIRMED'))
UNION ALL
SELECT 'USER_COUNT_VS_HOLDS', CONCAT(u.campaign_id, '/', u.user_id)
  FROM campaign_user_counts u
 WHERE u.quantity <> (
   SELECT COALESCE(SUM(rl.quantity), 0) FROM reservations r JOIN reservation_lines rl ON rl.reservation_id = r.id
    WHERE r.campaign_id = u.campaign_id AND r.user_id = u.user_id AND r.status IN ('RESERVED', 'CONFIRMED'))`;

/** Every drift of the store now. */
export async function mariadbDrifts(pool: Pool): Promise<MariadbDrift[]> {
  const conn = await pool.getConnection();
  try {
    await conn.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    await conn.beginTransaction();
    const rows = await conn.query<MariadbDrift[]>(CHECKS);
    await conn.commit();
    return rows.map((r) => ({ kind: r.kind, subject: r.subject }));
  } finally {
    await conn.release();
  }
}
