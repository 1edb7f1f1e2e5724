/**
 * The worker's store gauges on MySQL/MariaDB (issue 22): data/store-gauges.ts's two statements
 * on this store, on the same indexes (reservations (status, expires_at) and (campaign_id,
 * status), saga_starts (started_at, …)), and the event backlog (data/mariadb/events.ts).
 */
import type { Pool } from 'mariadb';
import type { CampaignSales, StoreGaugeSource, StoreTotals } from '../../platform/store-gauges';
import { mariadbEventBacklog } from './events';

/** Seconds since a UTC DATETIME(3), with milliseconds (0 when there is none). */
const ageOf = (oldest: string) => `COALESCE(TIMESTAMPDIFF(MICROSECOND, ${oldest}, CURRENT_TIMESTAMP(3)) / 1e6, 0)`;

const TOTALS = `
  SELECT (SELECT COUNT(*) FROM reservations WHERE status = 'RESERVED') AS holds_active,
         (SELECT COUNT(*) FROM reservations
           WHERE status = 'RESERVED' AND expires_at < CURRENT_TIMESTAMP(3) - INTERVAL ? SECOND) AS holds_past_expiry,
         (SELECT COUNT(*) FROM cache_outbox) AS cache_backlog,
         ${ageOf('(SELECT MIN(created_at) FROM cache_outbox)')} AS cache_oldest,
         (SELECT COUNT(*) FROM saga_starts WHERE started_at IS NULL) AS saga_backlog,
         ${ageOf('(SELECT MIN(created_at) FROM saga_starts WHERE started_at IS NULL)')} AS saga_oldest`;

/** Sold: paid and kept (CONFIRMED; pre-sales also BACKORDERED). */
const CAMPAIGNS = `
  SELECT c.id, c.sku, c.kind, c.quota,
         COALESCE(SUM(CASE WHEN r.status = 'RESERVED' THEN l.quantity END), 0) AS held,
         COALESCE(SUM(CASE WHEN r.status IN ('CONFIRMED', 'BACKORDERED') THEN l.quantity END), 0) AS sold
    FROM campaigns c
    LEFT JOIN reservations r ON r.campaign_id = c.id AND r.status IN ('RESERVED', 'CONFIRMED', 'BACKORDERED')
    LEFT JOIN reservation_lines l ON l.reservation_id = r.id
   WHERE c.status = 'OPEN' OR c.ended_at > CURRENT_TIMESTAMP(3) - INTERVAL 1 DAY
   GROUP BY c.id, c.sku, c.kind, c.quota`;

/** Reads the gauges' values from the pool; numbers as numbers (the driver hands sums over as decimals). */
export function mariadbStoreGaugeReader(pool: Pool): StoreGaugeSource {
  return {
    totals: async (graceSeconds) => {
      const [row] = await pool.query<Record<keyof StoreTotals, unknown>[]>(TOTALS, [graceSeconds]);
      return {
        holds_active: Number(row!.holds_active),
        holds_past_expiry: Number(row!.holds_past_expiry),
        cache_backlog: Number(row!.cache_backlog),
        cache_oldest: Number(row!.cache_oldest),
        saga_backlog: Number(row!.saga_backlog),
        saga_oldest: Number(row!.saga_oldest),
      };
    },
    campaigns: async () =>
      (await pool.query<Record<keyof CampaignSales, unknown>[]>(CAMPAIGNS)).map((r) => ({
        id: String(r.id),
        sku: String(r.sku),
        kind: String(r.kind),
        quota: Number(r.quota),
        held: Number(r.held),
        sold: Number(r.sold),
      })),
    events: () => mariadbEventBacklog(pool),
  };
}
