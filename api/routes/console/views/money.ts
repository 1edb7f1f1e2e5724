/** Payments (unsettled, refund required, mismatched) with "drive settlement"; and the alerts. */
import type { PaymentListRow } from '../../../../data/payments/payment-list';
import type { Page } from '../../../../domain/cursor';
import { html, type Html } from '../html';
import { badge, csrfField, nextPage, num, table, when } from './layout';

export const PAYMENT_VIEWS = [
  'PENDING',
  'REFUND_REQUIRED',
  'AMOUNT_MISMATCH',
  'DUPLICATE_CHARGE',
  'CONFIRMED',
  'REFUNDED',
  'BACKORDERED',
] as const;
const TONE: Record<string, 'ok' | 'warn' | 'bad' | 'info'> = {
  PENDING: 'warn',
  CONFIRMED: 'ok',
  REFUNDED: 'info',
  BACKORDERED: 'info',
  REFUND_REQUIRED: 'bad',
  AMOUNT_MISMATCH: 'bad',
  DUPLICATE_CHARGE: 'bad',
};

export function paymentsBody(page: Page<PaymentListRow>, state: string, csrf: string, canAct: boolean): Html {
  const rows = page.data.map(
    (p) =>
      html`<tr data-payment="${p.orderId}/${p.paymentId}">
        <td><code>${p.orderId}</code></td>
        <td><code>${p.paymentId}</code></td>
        ${num(p.amountCents / 100)}
        <td>
          ${badge(p.state, TONE[p.state] ?? 'info')}${p.reason ? html` <span class="muted">${p.reason}</span>` : ''}
        </td>
        <td>${when(p.receivedAt)}</td>
        <td>${when(p.settledAt)}</td>
        <td>
          ${
            p.state === 'PENDING' && canAct
              ? html`<form
                  class="act"
                  method="post"
                  action="/console/payments/${encodeURIComponent(p.orderId)}/${encodeURIComponent(p.paymentId)}/settle"
                >
                  ${csrfField(csrf)}<button type="submit" class="primary">Drive settlement</button>
                </form>`
              : ''
          }
        </td>
      </tr>`,
  );
  const tabs = PAYMENT_VIEWS.map(
    (s) => html`<a href="/console/payments?state=${s}" ${s === state ? html` aria-current="page"` : ''}>${s}</a>`,
  );
  const empty =
    state === 'PENDING'
      ? 'Every payment is settled: nothing waits for a saga.'
      : `No payment is ${state}. Nothing to do here.`;
  return html`<p class="filters">${tabs.map((t) => html`${t} `)}</p>
    ${table(
      html`<th>Order</th>
        <th>Payment</th>
        <th class="num">Amount</th>
        <th>State</th>
        <th>Received</th>
        <th>Settled</th>
        <th></th>`,
      rows,
      empty,
    )}
    ${nextPage('/console/payments', { state }, page.nextCursor)}`;
}

export interface AlertRow {
  readonly id: string;
  readonly kind: string;
  readonly sku: string;
  readonly warehouseCode: string;
  readonly lotCode: string | null;
  readonly details: Record<string, unknown>;
  readonly createdAt: string;
  readonly deliveredAt: string | null;
}

export function alertsBody(page: Page<AlertRow>, kind: string | undefined, kinds: readonly string[]): Html {
  const rows = page.data.map(
    (a) =>
      html`<tr>
        <td>${badge(a.kind, a.kind === 'NEAR_EXPIRY' ? 'warn' : 'bad')}</td>
        <td>${a.sku}</td>
        <td>${a.warehouseCode}</td>
        <td>${a.lotCode ?? ''}</td>
        <td><code>${JSON.stringify(a.details)}</code></td>
        <td>${when(a.createdAt)}</td>
        <td>${a.deliveredAt ? when(a.deliveredAt) : badge('not pushed', 'muted')}</td>
      </tr>`,
  );
  const option = (k: string) => html`<option value="${k}" ${k === kind ? html` selected` : ''}>${k}</option>`;
  return html`<form class="filters" method="get" action="/console/alerts">
      <label
        >Kind
        <select name="kind">
          <option value="">every kind</option>
          ${kinds.map(option)}
        </select></label
      >
      <button type="submit">Filter</button>
    </form>
    ${table(
      html`<th>Kind</th>
        <th>SKU</th>
        <th>Warehouse</th>
        <th>Lot</th>
        <th>Details</th>
        <th>Raised</th>
        <th>Pushed</th>`,
      rows,
      kind ? `No ${kind} alert has been raised.` : 'No alert has been raised: nothing needs you.',
    )}
    ${nextPage('/console/alerts', { kind }, page.nextCursor)}`;
}
