/** History (who moved which units, when, why) and reconciliation with "run now". */
import type { SubscriptionView } from '../../../../data/events/subscriptions';
import type { HistoryRow } from '../../../../use-cases/history';
import type { Page } from '../../../../domain/cursor';
import type { CacheCheckResult, ReconciliationReport } from '../../../../domain/reports';
import { html, type Html } from '../html';
import type { Overview } from '../reads';
import { badge, csrfField, nextPage, num, table, when } from './layout';

export interface HistoryQuery {
  readonly sku?: string;
  readonly warehouse?: string;
  readonly order?: string;
  readonly actor?: string;
}

const signed = (n: number) => (n === 0 ? '' : n > 0 ? `+${n}` : String(n));

export function historyBody(page: Page<HistoryRow>, q: HistoryQuery): Html {
  const rows = page.data.map(
    (m) =>
      html`<tr>
        <td>${when(m.at)}</td>
        <td>${m.sku}</td>
        <td>${m.warehouseCode}${m.lotCode ? html`<br /><span class="muted">lot ${m.lotCode}</span>` : ''}</td>
        <td>${m.kind}${m.reason ? html`<br /><span class="muted">${m.reason}</span>` : ''}</td>
        <td><code>${m.reference}</code></td>
        <td>
          ${m.actorName && m.actorName !== m.actor ? html`${m.actorName}<br /><span class="muted">${m.actor}</span>` : (m.actor ?? '–')}
        </td>
        <td class="num">${signed(m.change.onHand)}</td>
        <td class="num">${signed(m.change.reserved)}</td>
        ${num(m.after.onHand)}${num(m.after.reserved)}
      </tr>`,
  );
  const field = (name: keyof HistoryQuery, label: string) =>
    html`<label>${label} <input name="${name}" value="${q[name] ?? ''}" placeholder="any" /></label>`;
  return html`<form class="filters" method="get" action="/console/history">
      ${field('sku', 'SKU')}${field('warehouse', 'Warehouse')}${field('order', 'Order / reference')}${field('actor', 'Actor')}
      <button type="submit">Filter</button>
    </form>
    ${table(
      html`<th>At</th>
        <th>SKU</th>
        <th>Warehouse</th>
        <th>What</th>
        <th>Reference</th>
        <th>Who</th>
        <th class="num">On hand Δ</th>
        <th class="num">Reserved Δ</th>
        <th class="num">On hand after</th>
        <th class="num">Reserved after</th>`,
      rows,
      'Nothing matches: no unit has moved under these filters. Clear them to see the whole ledger.',
    )}
    ${nextPage('/console/history', { ...q }, page.nextCursor)}`;
}

export function reconciliationBody(
  r: ReconciliationReport | undefined,
  cache: CacheCheckResult | undefined,
  backlogs: Overview['backlogs'],
  subscriptions: readonly SubscriptionView[],
  csrf: string,
  canAct: boolean,
): Html {
  const run = canAct
    ? html`<form class="act" method="post" action="/console/reconciliation/run">
        ${csrfField(csrf)}<button type="submit" class="primary">Run now</button>
      </form>`
    : html`<p class="muted">Scope admin runs a reconciliation now.</p>`;
  const drifts = (r?.drifts ?? []).map(
    (d) =>
      html`<tr>
        <td>${d.check}</td>
        <td>${d.sku}</td>
        <td>${d.warehouseCode}</td>
        <td>${d.lotCode ?? ''}</td>
        ${num(d.recorded)}${num(d.expected)}
      </tr>`,
  );
  const unsettled = (r?.unsettledPayments ?? []).map(
    (p) =>
      html`<tr>
        <td><code>${p.orderId}</code></td>
        <td><code>${p.paymentId}</code></td>
        ${num(p.amountCents / 100)}
        <td>${when(p.receivedAt)}</td>
        <td>${p.action}</td>
      </tr>`,
  );
  return html`${run}
    ${
      r
        ? html`<p>
              Run <code>${r.runId}</code> at ${when(r.startedAt)}: ${r.levelsChecked} levels checked,
              ${r.clean ? badge('clean', 'ok') : badge('not clean', 'bad')}
            </p>
            <h2>Drifts</h2>
            ${table(
              html`<th>Check</th>
                <th>SKU</th>
                <th>Warehouse</th>
                <th>Lot</th>
                <th class="num">Recorded</th>
                <th class="num">Expected</th>`,
              drifts,
              'No drift: every level agrees with its ledger, holds, lots and transfers.',
            )}
            <h2>Payments unsettled past PAYMENT_SETTLE_MINUTES</h2>
            ${table(
              html`<th>Order</th>
                <th>Payment</th>
                <th class="num">Amount</th>
                <th>Received</th>
                <th>Action taken</th>`,
              unsettled,
              'None: every payment was settled in time.',
            )}
            <p class="muted">
              Sagas not started a minute after their hold: ${r.unstartedSagas.length}; sagas disagreeing with their
              payments: ${r.sagaMismatches.length}.
            </p>`
        : html`<p class="empty">
            No reconciliation has run yet: press Run now (the worker also runs one every RECONCILE_INTERVAL).
          </p>`
    }
    <h2 id="cache">Cache check</h2>
    ${
      cache
        ? html`<p>
            At ${when(cache.checkedAt)}: ${cache.compared} compared, ${cache.drifted} drifted
            (${(cache.driftRatio * 100).toFixed(2)} %)${cache.rebuilt ? ', cache rebuilt' : ''}.
          </p>`
        : html`<p class="empty">No cache check yet: the worker runs one every CACHE_CHECK_INTERVAL.</p>`
    }
    <h2 id="backlogs">Outboxes and relays</h2>
    ${table(
      html`<th>Backlog</th>
        <th class="num">Rows</th>
        <th class="num">Oldest (s)</th>`,
      [
        html`<tr>
          <td>Saga starts (saga_starts)</td>
          ${num(backlogs.sagaStarts)}${num(Math.round(backlogs.sagaOldestSeconds))}
        </tr>`,
        html`<tr>
          <td>Cache outbox</td>
          ${num(backlogs.cacheOutbox)}${num(Math.round(backlogs.cacheOldestSeconds))}
        </tr>`,
        html`<tr>
          <td>Events not positioned</td>
          ${num(backlogs.events.unpositioned)}${num(Math.round(backlogs.events.unpositionedOldestSeconds))}
        </tr>`,
        ...backlogs.events.channels.map(
          (c) =>
            html`<tr>
              <td>Event channel ${c.channel} (positions behind)</td>
              ${num(c.lagPositions)}${num(Math.round(c.lagSeconds))}
            </tr>`,
        ),
      ],
      '',
    )}
    <h2 id="subscriptions">Event subscriptions</h2>
    ${table(
      html`<th>Subscription</th>
        <th>Receiver</th>
        <th>State</th>
        <th class="num">Cursor</th>
        <th>Updated</th>`,
      subscriptions.map(
        (sub) =>
          html`<tr>
            <td>
              <code>${sub.id}</code>${sub.description ? html`<br /><span class="muted">${sub.description}</span>` : ''}
            </td>
            <td>${sub.url}</td>
            <td>
              ${sub.status === 'ACTIVE' ? badge('active', 'ok') : badge('disabled', 'bad')}${sub.disabledReason ? html` <span class="muted">${sub.disabledReason}</span>` : ''}
            </td>
            <td class="num">${sub.cursor}</td>
            <td>${when(sub.updatedAt)}</td>
          </tr>`,
      ),
      'No event webhook subscription: shops read GET /events, or subscribe with POST /admin/event-subscriptions (docs/events.md).',
    )}`;
}
