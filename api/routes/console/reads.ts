/**
 * What the console's pages show, read through the same data/ functions the JSON API answers
 * from (so a page and its endpoint cannot disagree): no SQL here.
 */
import type { AppDeps } from '../../deps';
import { countAlertsByKind } from '../../../data/alerts/stock-alerts';
import { recentChecks } from '../../../data/cache/checker';
import { listCampaigns } from '../../../data/campaigns/campaign-list';
import { campaignOrdersLastMinute, readCampaign, type CampaignView } from '../../../data/campaigns/campaign-queries';
import { countHolds } from '../../../data/orders/lists';
import { countPaymentsByState } from '../../../data/payments/payment-list';
import { latestReconciliation } from '../../../data/stock/reconcile';
import { storeGaugeReader } from '../../../data/store-gauges';
import { eventBacklog, type EventBacklog } from '../../../data/events/channels';
import type { CacheCheckResult, ReconciliationReport } from '../../../domain/reports';

/** The overview: each figure is a link to the page that lists it. */
export interface Overview {
  readonly holds: { readonly live: number; readonly pastExpiry: number };
  /** Payments per state (PENDING: unsettled). */
  readonly payments: Readonly<Record<string, number>>;
  readonly reconciliation?: ReconciliationReport;
  readonly cacheCheck?: CacheCheckResult;
  readonly backlogs: {
    readonly sagaStarts: number;
    readonly sagaOldestSeconds: number;
    readonly cacheOutbox: number;
    readonly cacheOldestSeconds: number;
    readonly events: EventBacklog;
  };
  readonly alerts: readonly { kind: string; raised: number; undelivered: number }[];
  readonly openSales: number;
  readonly readAt: string;
}

export async function readOverview({ db, config }: AppDeps): Promise<Overview> {
  const gauges = storeGaugeReader(db);
  const [holds, payments, reconciliation, checks, totals, events, alerts, sales] = await Promise.all([
    countHolds(db),
    countPaymentsByState(db),
    latestReconciliation(db),
    recentChecks(db, 1),
    gauges.totals(config.sweeperGraceSeconds),
    eventBacklog(db),
    countAlertsByKind(db),
    listCampaigns(db, { status: 'OPEN' }, 100),
  ]);
  return {
    holds,
    payments,
    reconciliation,
    cacheCheck: checks[0],
    backlogs: {
      sagaStarts: totals.saga_backlog,
      sagaOldestSeconds: totals.saga_oldest,
      cacheOutbox: totals.cache_backlog,
      cacheOldestSeconds: totals.cache_oldest,
      events,
    },
    alerts,
    openSales: sales.data.length,
    readAt: new Date().toISOString(),
  };
}

/** A live campaign as the sales page shows it: PostgreSQL's pool beside the gate's tokens. */
export interface SaleView extends CampaignView {
  readonly gate?: { readonly loaded: boolean; readonly tokens: number; readonly ended: boolean };
  /** Holds taken in the last minute. */
  readonly ordersLastMinute: number;
}

/** The open campaigns (newest first, at most 50), each read as GET /admin/campaigns/:id reads it. */
export async function readSales({ db, gate }: AppDeps): Promise<SaleView[]> {
  const open = await listCampaigns(db, { status: 'OPEN' }, 50);
  return Promise.all(
    open.data.map(async ({ id }) => {
      const campaign = (await readCampaign(db, id))!;
      const [state, ordersLastMinute] = await Promise.all([
        gate.state(id).catch(() => undefined),
        campaignOrdersLastMinute(db, id),
      ]);
      return { ...campaign, gate: state, ordersLastMinute };
    }),
  );
}
