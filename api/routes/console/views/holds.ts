/** Holds: filter by SKU, expiring soon, past expiry; Extend and Release (admin), each saga in the Temporal UI. */
import { randomUUID } from 'node:crypto';
import type { HoldRow } from '../../../../data/orders/lists';
import type { Page } from '../../../../domain/cursor';
import { html, safeHref, type Html } from '../html';
import { badge, countdown, csrfField, nextPage, table, when } from './layout';

export const HoldFilter = { ALL: 'all', SOON: 'soon', PAST: 'past' } as const;
export type HoldFilter = (typeof HoldFilter)[keyof typeof HoldFilter];

/** "Expiring soon": within this many minutes. */
export const SOON_MINUTES = 5;

export interface HoldsQuery {
  readonly sku?: string;
  readonly filter: HoldFilter;
  readonly cursor?: string;
}

function actions(h: HoldRow, csrf: string, canAct: boolean, maxSeconds: number): Html {
  if (!canAct) return html`<span class="muted">scope admin acts</span>`;
  const id = encodeURIComponent(h.orderId);
  // A fresh extension id per rendered form: pressing twice (or a resent form) extends once.
  return html`<form class="act" method="post" action="/console/holds/${id}/extend">
      ${csrfField(csrf)}<input type="hidden" name="extensionId" value="console-${randomUUID()}" />
      <input
        type="number"
        name="seconds"
        min="1"
        max="${maxSeconds}"
        value="${Math.min(300, maxSeconds)}"
        aria-label="seconds"
        required
      />
      <input name="reason" placeholder="reason" maxlength="200" required aria-label="reason for the extension" />
      <button type="submit" class="primary">Extend</button>
    </form>
    <form class="act" method="post" action="/console/holds/${id}/release">
      ${csrfField(csrf)}
      <input name="reason" placeholder="reason" maxlength="200" required aria-label="reason for the release" />
      <button type="submit" class="danger">Release</button>
    </form>`;
}

export function holdsBody(
  page: Page<HoldRow>,
  q: HoldsQuery,
  ctx: { csrf: string; canAct: boolean; sagaUrl: (orderId: string) => string; maxExtensionSeconds: number },
): Html {
  const rows = page.data.map(
    (h) =>
      html`<tr data-order="${h.orderId}">
        <td>
          <code>${h.orderId}</code><br /><a href="${safeHref(ctx.sagaUrl(h.orderId))}" target="_blank" rel="noopener"
            >saga ↗</a
          >
        </td>
        <td>${h.userId}${h.campaignId ? html`<br /><span class="muted">sale ${h.campaignId}</span>` : ''}</td>
        <td>
          <ul class="lines">
            ${h.lines.map((l) => html`<li>${l.quantity} × ${l.sku} @ ${l.warehouseCode}</li>`)}
          </ul>
        </td>
        <td>${when(h.heldSince)}</td>
        <td class="expires">${when(h.expiresAt)}<br />${countdown(h.expiresAt)}</td>
        <td>${h.pastExpiry ? badge('past expiry', 'warn') : badge('held', 'info')}</td>
        <td>${actions(h, ctx.csrf, ctx.canAct, ctx.maxExtensionSeconds)}</td>
      </tr>`,
  );
  const option = (value: HoldFilter, label: string) =>
    html`<option value="${value}" ${q.filter === value ? html` selected` : ''}>${label}</option>`;
  const empty =
    q.filter === HoldFilter.ALL && !q.sku
      ? 'No stock is held: every order is paid or released. Holds appear here as orders are placed.'
      : 'No hold matches these filters. Clear them to see every live hold.';
  return html`<form class="filters" method="get" action="/console/holds">
      <label>SKU <input name="sku" value="${q.sku ?? ''}" placeholder="any" /></label>
      <label
        >Show
        <select name="filter">
          ${option(HoldFilter.ALL, 'every live hold')}${option(HoldFilter.SOON, `expiring within ${SOON_MINUTES} min`)}${option(HoldFilter.PAST, 'past expiry')}
        </select></label
      >
      <button type="submit">Filter</button>
    </form>
    ${table(
      html`<th>Order</th>
        <th>User</th>
        <th>Lines</th>
        <th>Held since</th>
        <th>Expires</th>
        <th>State</th>
        <th>Act</th>`,
      rows,
      empty,
    )}
    ${nextPage('/console/holds', { sku: q.sku, filter: q.filter }, page.nextCursor)}`;
}
