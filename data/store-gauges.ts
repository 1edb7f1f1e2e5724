/**
 * The statements behind the worker's store gauges (platform/store-gauges.ts): two per
 * refresh, both on indexes (reservations (status, expires_at) and (campaign_id, status),
 * saga_starts (started_at, ...)).
 */
import type { CampaignSales, StoreGaugeSource, StoreTotals } from '../platform/store-gauges';
import type { Db } from './db';
import { eventBacklog } from './events/channels';
import { mariadbOf } from './mariadb/db';
import { mariadbStoreGaugeReader } from './mariadb/store-gauges';

const TOTALS = `
  SELECT (SELECT count(*) FROM reservations WHERE status = 'RESERVED')::int AS holds_active,
         (SELECT count(*) FROM reservations
           WHERE status = 'RESERVED' AND expires_at < now() - make_interval(secs => $1::int))::int AS holds_past_expiry,
         (SELECT count(*) FROM cache_outbox)::int AS cache_backlog,
         COALESCE((SELECT EXTRACT(EPOCH FROM now() - min(created_at)) FROM cache_outbox), 0)::float8 AS cache_oldest,
         (SELECT count(*) FROM saga_starts WHERE started_at IS NULL)::int AS saga_backlog,
         COALESCE((SELECT EXTRACT(EPOCH FROM now() - min(created_at)) FROM saga_starts WHERE started_at IS NULL), 0)::float8 AS saga_oldest`;

/** Sold: paid and kept (CONFIRMED; pre-sales also BACKORDERED, paid and waiting for the goods). */
const CAMPAIGNS = `
  SELECT c.id, c.sku, c.kind, c.quota,
         COALESCE(SUM(l.quantity) FILTER (WHERE r.status = 'RESERVED'), 0)::int AS held,
         COALESCE(SUM(l.quantity) FILTER (WHERE r.status IN ('CONFIRMED', 'BACKORDERED')), 0)::int AS sold
    FROM campaigns c
    LEFT JOIN reservations r ON r.campaign_id = c.id AND r.status IN ('RESERVED', 'CONFIRMED', 'BACKORDERED')
    LEFT JOIN reservation_lines l ON l.reservation_id = r.id
   WHERE c.status = 'OPEN' OR c.ended_at > now() - interval '1 day'
   GROUP BY c.id`;

/**
 * Reads the gauges' values from `db` (any client or transaction); on MySQL/MariaDB from
 * data/mariadb/store-gauges.ts (no event backlog there).
 */
export function storeGaugeReader(db: Pick<Db, '$queryRawUnsafe' | 'mariadb'>): StoreGaugeSource {
  const maria = mariadbOf(db);
  if (maria) return mariadbStoreGaugeReader(maria);
  return {
    totals: async (graceSeconds) => (await db.$queryRawUnsafe<StoreTotals[]>(TOTALS, graceSeconds))[0],
    campaigns: () => db.$queryRawUnsafe<CampaignSales[]>(CAMPAIGNS),
    events: () => eventBacklog(db),
  };
}
