/** Stock: SKU × warehouse with every state a unit can be in; lots on drill-down; history per level. */
import type { LevelView } from '../../../../data/stock/inventory-view';
import { html, type Html } from '../html';
import { badge, num, table, when } from './layout';

/** One SKU as GET /inventory/:sku reads it. */
export interface SkuStock {
  readonly sku: string;
  readonly name: string;
  readonly lotTracked: boolean;
  readonly warehouses: readonly LevelView[];
}

const HEAD = html`<th>SKU</th>
  <th>Warehouse</th>
  <th class="num">On hand</th>
  <th class="num">Reserved</th>
  <th class="num">Safety</th>
  <th class="num">Unsellable</th>
  <th class="num">Damaged</th>
  <th class="num">QC</th>
  <th class="num">Incoming</th>
  <th class="num">Available</th>
  <th></th>`;

function levelRow(s: SkuStock, l: LevelView): Html {
  const q = (v: string) => encodeURIComponent(v);
  return html`<tr data-level="${s.sku}/${l.warehouseCode}">
    <td><a href="/console/stock/${q(s.sku)}">${s.sku}</a><br /><span class="muted">${s.name}</span></td>
    <td>${l.warehouseCode}</td>
    ${num(l.onHand)}${num(l.reserved)}${num(l.safetyStock)}${num(l.unsellable)}${num(l.damaged)}${num(l.qualityControl)}${num(l.incoming)}${num(l.available, 'strong')}
    <td><a href="/console/history?sku=${q(s.sku)}&amp;warehouse=${q(l.warehouseCode)}">history</a></td>
  </tr>`;
}

export function stockBody(skus: readonly SkuStock[], sku: string | undefined, pager: Html): Html {
  const rows = skus.flatMap((s) => s.warehouses.map((l) => levelRow(s, l)));
  return html`<form class="filters" method="get" action="/console/stock">
      <label>SKU <input name="sku" value="${sku ?? ''}" placeholder="any" /></label>
      <button type="submit">Filter</button>
    </form>
    ${table(HEAD, rows, sku ? `No stock level for ${sku}: receive stock (POST /admin/receipts) to create one.` : 'No stock yet: add products and receive stock (POST /admin/receipts), or run npm start on an empty database for the demo data.')}
    ${pager}`;
}

const LOT_TONE = { SELLABLE: 'ok', NEAR_EXPIRY: 'warn', QUARANTINED: 'bad', EXPIRED: 'bad' } as const;

/** One SKU: its levels and every lot with stock left, first-expiring first. */
export function skuBody(s: SkuStock): Html {
  const lots = s.warehouses.flatMap((l) =>
    l.lots.map(
      (lot) =>
        html`<tr>
          <td>${l.warehouseCode}</td>
          <td><code>${lot.lotCode}</code></td>
          ${num(lot.quantity)}
          <td>${when(lot.receivedAt)}</td>
          <td>${when(lot.expiresAt)}</td>
          <td>${when(lot.removeAt)}</td>
          <td>
            ${badge(lot.state, LOT_TONE[lot.state as keyof typeof LOT_TONE] ?? 'info')}${lot.quarantineReason ? html` <span class="muted">${lot.quarantineReason}</span>` : ''}
          </td>
        </tr>`,
    ),
  );
  return html`${table(
      HEAD,
      s.warehouses.map((l) => levelRow(s, l)),
      `${s.sku} has no stock level yet.`,
    )}
    <h2>Lots</h2>
    ${table(
      html`<th>Warehouse</th>
        <th>Lot</th>
        <th class="num">Quantity</th>
        <th>Received</th>
        <th>Use by</th>
        <th>Remove at</th>
        <th>State</th>`,
      lots,
      s.lotTracked ? 'No lot has stock left.' : `${s.sku} is not lot-tracked: its stock has no lots.`,
    )}`;
}
