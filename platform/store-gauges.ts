/**
 * Gauges read from PostgreSQL when Prometheus scrapes the worker: what the alert rules and the
 * dashboard need that no code path counts as it happens (deploy/prometheus/alerts.yml).
 *
 *  - stockhold_holds_active / stockhold_holds_past_expiry: RESERVED holds, and those whose
 *    expiry + SWEEPER_GRACE_SECONDS has passed (their saga and the sweeper should have
 *    released them: must be 0);
 *  - stockhold_relay_backlog / stockhold_relay_oldest_seconds {relay="cache"|"saga"}: rows the
 *    cache relay (cache_outbox) and the saga relay (saga_starts not started) still have to do;
 *  - stockhold_events_unpositioned / stockhold_events_unpositioned_oldest_seconds: committed
 *    events the event relay has not positioned yet (the event backlog);
 *  - stockhold_event_channel_lag_positions / stockhold_event_channel_lag_seconds {channel}:
 *    how far each push channel (nats) is behind the feed's head, in positions and in the age of
 *    the oldest event it has not delivered;
 *  - stockhold_campaign_{quota,held,sold}_units and stockhold_campaign_sell_through_ratio
 *    {campaign, sku, kind}: campaigns open or ended within the last day.
 *
 * Two statements per refresh (data/store-gauges.ts), both on indexes (reservations (status, expires_at) and
 * (campaign_id, status), saga_starts (started_at, ...)); one refresh serves every gauge of a
 * scrape, and scrapes closer than `maxAgeMs` reuse it. A failed read leaves the last values
 * (the scrape still answers) and is logged.
 */
import { Gauge, type Registry } from 'prom-client';

/** The totals one refresh reads (data/store-gauges.ts: one statement). */
export interface StoreTotals {
  holds_active: number;
  holds_past_expiry: number;
  cache_backlog: number;
  cache_oldest: number;
  saga_backlog: number;
  saga_oldest: number;
}

/** A campaign open or ended within the last day, with its units held and sold. */
export interface CampaignSales {
  id: string;
  sku: string;
  kind: string;
  quota: number;
  held: number;
  sold: number;
}

/** Where the gauges' values come from (data/store-gauges.ts reads them from PostgreSQL). */
/** The event backlog (data/events/channels.ts). */
export interface EventLag {
  readonly unpositioned: number;
  readonly unpositionedOldestSeconds: number;
  readonly channels: readonly {
    readonly channel: string;
    readonly lagPositions: number;
    readonly lagSeconds: number;
  }[];
}

export interface StoreGaugeSource {
  totals(graceSeconds: number): PromiseLike<StoreTotals>;
  campaigns(): PromiseLike<CampaignSales[]>;
  events?(): PromiseLike<EventLag>;
}

export interface StoreGaugeOptions {
  /** SWEEPER_GRACE_SECONDS: a hold is "past expiry" once expires_at + grace has passed. */
  readonly graceSeconds: number;
  /** Scrapes within this many ms of the last refresh reuse its values (default 5 s). */
  readonly maxAgeMs?: number;
  readonly onError?: (err: unknown) => void;
}

/** Registers the gauges on `registry`; their values are read from `db` (data/store-gauges.ts) at scrape time. */
export function registerStoreGauges(registry: Registry, db: StoreGaugeSource, options: StoreGaugeOptions): void {
  const maxAgeMs = options.maxAgeMs ?? 5_000;
  let last: { at: number; read: Promise<void> } | undefined;
  const refresh = (): Promise<void> => {
    if (last && Date.now() - last.at < maxAgeMs) return last.read;
    const read = load().catch((err) =>
      (options.onError ?? ((e) => console.warn('[metrics] store gauges not refreshed', e)))(err),
    );
    last = { at: Date.now(), read };
    return read;
  };

  const labels = ['campaign', 'sku', 'kind'] as const;
  const gauge = <L extends string = never>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers: [registry], collect: refresh });
  const holdsActive = gauge('stockhold_holds_active', 'Holds (RESERVED reservations) awaiting payment');
  const holdsPastExpiry = gauge(
    'stockhold_holds_past_expiry',
    'RESERVED holds past expires_at + SWEEPER_GRACE_SECONDS (must be 0)',
  );
  const backlog = gauge(
    'stockhold_relay_backlog',
    'Rows a relay still has to apply: cache (cache_outbox), saga (saga_starts not started)',
    ['relay'],
  );
  const oldest = gauge(
    'stockhold_relay_oldest_seconds',
    'Age of the oldest row a relay still has to apply (0 when none)',
    ['relay'],
  );
  const quota = gauge(
    'stockhold_campaign_quota_units',
    'Units on sale in a campaign (open or ended within a day)',
    labels,
  );
  const held = gauge('stockhold_campaign_held_units', 'Units of a campaign held and awaiting payment', labels);
  const sold = gauge(
    'stockhold_campaign_sold_units',
    'Units of a campaign sold (CONFIRMED, or BACKORDERED for pre-sales)',
    labels,
  );
  const sellThrough = gauge('stockhold_campaign_sell_through_ratio', 'Sold units / quota of a campaign', labels);

  const eventsUnpositioned = gauge(
    'stockhold_events_unpositioned',
    'Committed events not yet positioned by the event relay (the event backlog)',
  );
  const eventsOldest = gauge(
    'stockhold_events_unpositioned_oldest_seconds',
    'Age of the oldest committed event not yet positioned (0 when none)',
  );
  const channelLag = gauge(
    'stockhold_event_channel_lag_positions',
    'Positions a push channel is behind the feed head',
    ['channel'],
  );
  const channelLagSeconds = gauge(
    'stockhold_event_channel_lag_seconds',
    'Age of the oldest positioned event a push channel has not delivered (0 when caught up)',
    ['channel'],
  );

  async function load(): Promise<void> {
    const totals = await db.totals(options.graceSeconds);
    const campaigns = await db.campaigns();
    const events = await db.events?.();
    if (events) {
      eventsUnpositioned.set(events.unpositioned);
      eventsOldest.set(events.unpositionedOldestSeconds);
      channelLag.reset();
      channelLagSeconds.reset();
      for (const c of events.channels) {
        channelLag.set({ channel: c.channel }, c.lagPositions);
        channelLagSeconds.set({ channel: c.channel }, c.lagSeconds);
      }
    }
    holdsActive.set(totals.holds_active);
    holdsPastExpiry.set(totals.holds_past_expiry);
    backlog.set({ relay: 'cache' }, totals.cache_backlog);
    backlog.set({ relay: 'saga' }, totals.saga_backlog);
    oldest.set({ relay: 'cache' }, totals.cache_oldest);
    oldest.set({ relay: 'saga' }, totals.saga_oldest);
    // Campaigns that left the window disappear instead of keeping their last value.
    for (const g of [quota, held, sold, sellThrough]) g.reset();
    for (const c of campaigns) {
      const l = { campaign: c.id, sku: c.sku, kind: c.kind };
      quota.set(l, c.quota);
      held.set(l, c.held);
      sold.set(l, c.sold);
      sellThrough.set(l, c.quota > 0 ? c.sold / c.quota : 0);
    }
  }
}
