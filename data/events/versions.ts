/**
 * Reconciliation's EVENTS_VS_VERSIONS check, as SQL pieces data/stock/reconcile.ts puts in
 * its one-snapshot drift query. Each level's stock.changed events must chain — every
 * event's fromVersion is the previous one's toVersion — and end at the level's version: a
 * break means an event was lost, a short end that a change emitted none. Levels with no event
 * (last changed before events existed) are not judged; the chain is judged from its first
 * event, so a retention that deletes old events keeps it whole.
 */

/** A CTE `event_chain` (sku, warehouse_code, last_to, breaks); follows the others with a comma. */
export const EVENT_CHAIN_CTE = `
  event_chain AS (
    SELECT sku, warehouse_code, max(t) AS last_to, count(*) FILTER (WHERE f <> prev_t)::int AS breaks
      FROM (SELECT sku, warehouse_code, (data->>'fromVersion')::bigint AS f, (data->>'toVersion')::bigint AS t,
                   lag((data->>'toVersion')::bigint) OVER (PARTITION BY sku, warehouse_code ORDER BY (data->>'fromVersion')::bigint) AS prev_t
              FROM event_outbox WHERE type = 'stock.changed') e
     GROUP BY sku, warehouse_code)`;

/** The check's rows: recorded = the level's version (or the breaks), expected = where its events end (or 0). */
export const EVENT_CHAIN_CHECKS = `
  UNION ALL SELECT 'EVENTS_VS_VERSIONS', il.sku, il.warehouse_code, NULL, il.version::int, ec.last_to::int
    FROM inventory_levels il JOIN event_chain ec USING (sku, warehouse_code) WHERE il.version <> ec.last_to
  UNION ALL SELECT 'EVENTS_VS_VERSIONS', sku, warehouse_code, NULL, breaks, 0 FROM event_chain WHERE breaks > 0`;
