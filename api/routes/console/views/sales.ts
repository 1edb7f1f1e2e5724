/** Sales: each live campaign's quota, held, sold, remaining, the gate beside PostgreSQL, pace, countdown. */
import { html, type Html } from '../html';
import type { SaleView } from '../reads';
import { badge, countdown, num, table } from './layout';

/** The gate agrees with PostgreSQL when its tokens are the pool's remaining units. */
function gateCell(s: SaleView): Html {
  if (!s.gate || !s.gate.loaded) return html`<td>${badge('gate not loaded', 'warn')}</td>`;
  const drift = s.gate.tokens - s.remaining;
  return html`<td class="num">
    ${s.gate.tokens.toLocaleString('en-US')}
    ${drift === 0 ? badge('in step', 'ok') : badge(`drift ${drift > 0 ? '+' : ''}${drift}`, 'bad')}
  </td>`;
}

export function salesPanel(sales: readonly SaleView[], refreshSeconds: number): Html {
  const now = Date.now();
  const rows = sales.map(
    (s) =>
      html`<tr data-campaign="${s.id}">
        <td><code>${s.id}</code><br /><span class="muted">${s.kind}</span></td>
        <td>${s.sku} @ ${s.warehouseCode}</td>
        ${num(s.quota)}${num(s.held, 'held')}${num(s.sold, 'sold')}${num(s.remaining, 'remaining strong')}
        ${gateCell(s)} ${num(s.ordersLastMinute)}
        <td>
          ${Date.parse(s.startsAt) > now ? html`starts ${countdown(s.startsAt, now)}` : html`ends ${countdown(s.endsAt, now)}`}
        </td>
      </tr>`,
  );
  return html`<div id="sales" hx-get="/console/sales/panel" hx-trigger="every ${refreshSeconds}s" hx-swap="outerHTML">
    ${table(
      html`<th>Campaign</th>
        <th>SKU</th>
        <th class="num">Quota</th>
        <th class="num">Held</th>
        <th class="num">Sold</th>
        <th class="num">Remaining</th>
        <th class="num">Gate tokens</th>
        <th class="num">Orders/min</th>
        <th>Time</th>`,
      rows,
      'No sale is live. Start a flash sale or a pre-sale with POST /admin/campaigns (docs/flash-sales-and-pre-sales.md).',
    )}
    <p class="muted">
      Refreshes every ${refreshSeconds} s. Gate tokens are the Redis gate's count; PostgreSQL's pool (remaining)
      decides.
    </p>
  </div>`;
}
