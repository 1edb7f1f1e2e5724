/** The overview: what on-call looks at first, refreshing itself (htmx polling of its panel). */
import { html, type Html } from '../html';
import type { Overview } from '../reads';
import { badge, relative, when } from './layout';

type Tone = 'ok' | 'warn' | 'bad' | 'info';

function tile(label: string, value: number, href: string, tone: Tone, sub: Html | string = '', id = ''): Html {
  return html`<a class="tile ${tone}" href="${href}" ${id ? html` id="${id}"` : ''}>
    <div class="label">${label}</div>
    <div class="value" data-figure="${id}">${value.toLocaleString('en-US')}</div>
    <div class="sub">${sub}</div>
  </a>`;
}

const toneOf = (n: number, bad: Tone = 'bad'): Tone => (n === 0 ? 'ok' : bad);

/** The self-refreshing panel: the same element comes back every `refreshSeconds`. */
export function overviewPanel(o: Overview, refreshSeconds: number): Html {
  const pending = o.payments.PENDING ?? 0;
  const refund = o.payments.REFUND_REQUIRED ?? 0;
  const mismatched = (o.payments.AMOUNT_MISMATCH ?? 0) + (o.payments.DUPLICATE_CHARGE ?? 0);
  const r = o.reconciliation;
  const c = o.cacheCheck;
  const events = o.backlogs.events;
  const channelLag = events.channels.reduce((max, ch) => Math.max(max, ch.lagPositions), 0);
  const alertsRaised = o.alerts.reduce((sum, a) => sum + a.raised, 0);
  return html`<div
    id="overview"
    hx-get="/console/overview/panel"
    hx-trigger="every ${refreshSeconds}s"
    hx-swap="outerHTML"
  >
    <p class="muted">Read at ${when(o.readAt)}; refreshes every ${refreshSeconds} s.</p>
    <h2>Stock held</h2>
    <div class="tiles">
      ${tile('Live holds', o.holds.live, '/console/holds', 'info', 'orders waiting for payment', 'holds-live')}
      ${tile('Holds past expiry', o.holds.pastExpiry, '/console/holds?filter=past', toneOf(o.holds.pastExpiry, 'warn'), 'the saga or the sweeper releases them', 'holds-past-expiry')}
      ${tile('Live sales', o.openSales, '/console/sales', 'info', 'flash sales and pre-sales open', 'sales-open')}
    </div>
    <h2>Money</h2>
    <div class="tiles">
      ${tile('Unsettled payments', pending, '/console/payments?state=PENDING', toneOf(pending, 'warn'), 'PENDING: received, not settled yet', 'payments-pending')}
      ${tile('Refund required', refund, '/console/payments?state=REFUND_REQUIRED', toneOf(refund), 'paid, but no stock to give', 'payments-refund')}
      ${tile('Mismatched', mismatched, '/console/payments?state=AMOUNT_MISMATCH', toneOf(mismatched), 'wrong amount or charged twice', 'payments-mismatched')}
    </div>
    <h2>Consistency</h2>
    <div class="tiles">
      ${
        r
          ? tile(
              'Reconciliation drifts',
              r.drifts.length,
              '/console/reconciliation',
              r.clean ? 'ok' : 'bad',
              html`${r.clean ? badge('clean', 'ok') : badge('not clean', 'bad')}
              ${relative(Date.parse(r.startedAt) - Date.now())}`,
              'reconciliation-drifts',
            )
          : tile(
              'Reconciliation drifts',
              0,
              '/console/reconciliation',
              'warn',
              'no run yet: run one now',
              'reconciliation-drifts',
            )
      }
      ${
        c
          ? tile(
              'Cache drift',
              c.drifted,
              '/console/reconciliation#cache',
              toneOf(c.drifted, 'warn'),
              `${c.compared} compared ${relative(Date.parse(c.checkedAt) - Date.now())}${c.rebuilt ? ', rebuilt' : ''}`,
              'cache-drift',
            )
          : tile('Cache drift', 0, '/console/reconciliation#cache', 'info', 'no check yet', 'cache-drift')
      }
      ${tile('Saga starts waiting', o.backlogs.sagaStarts, '/console/reconciliation#backlogs', toneOf(o.backlogs.sagaStarts, 'warn'), `oldest ${Math.round(o.backlogs.sagaOldestSeconds)} s`, 'backlog-sagas')}
      ${tile('Cache outbox', o.backlogs.cacheOutbox, '/console/reconciliation#backlogs', toneOf(o.backlogs.cacheOutbox, 'warn'), `oldest ${Math.round(o.backlogs.cacheOldestSeconds)} s`, 'backlog-cache')}
      ${tile('Events unpositioned', events.unpositioned, '/console/reconciliation#backlogs', toneOf(events.unpositioned, 'warn'), `channels behind by ≤ ${channelLag} positions`, 'backlog-events')}
    </div>
    <h2>Alerts</h2>
    ${
      o.alerts.length === 0
        ? html`<p class="empty">
            No alert has been raised. Alerts appear here when a lot nears its use-by date, a saga outlives its hold, a
            payment stays unsettled…
          </p>`
        : html`<div class="tiles">
              ${o.alerts.map((a) =>
                tile(
                  a.kind,
                  a.raised,
                  `/console/alerts?kind=${a.kind}`,
                  a.undelivered > 0 ? 'warn' : 'info',
                  `${a.undelivered} not yet pushed`,
                  `alerts-${a.kind}`,
                ),
              )}
            </div>
            <p class="muted">${alertsRaised} raised in all.</p>`
    }
  </div>`;
}
