import { compareBytes } from './byte-order';
import type { OrderLine, OrderRequest, RequestedLine } from './types';

/**
 * Merges lines of the same SKU and warehouse and sorts them in one fixed order.
 *
 * Merging makes "2 + 3 of the same item" one conditional update of 5, so a hold can never
 * be half-taken on one row. The fixed (sku, warehouse) order means every transaction locks
 * level rows in the same sequence (byte order, as SQL's `COLLATE "C"`), so two orders
 * touching the same rows cannot deadlock.
 */
export function mergeLines<T extends RequestedLine>(lines: readonly T[]): T[] {
  const merged = new Map<string, T>();
  for (const line of lines) {
    const key = `${line.sku}\u0000${line.warehouseCode ?? ''}`;
    const prev = merged.get(key);
    merged.set(key, prev ? { ...prev, quantity: prev.quantity + line.quantity } : { ...line });
  }
  return [...merged.values()].sort(compareLines);
}

/**
 * Lock order: by SKU, then warehouse (lines without a warehouse first), in byte order, the
 * order SQL gets with `COLLATE "C"` (see byte-order.ts).
 */
export function compareLines(a: RequestedLine, b: RequestedLine): number {
  return compareBytes(a.sku, b.sku) || compareBytes(a.warehouseCode ?? '', b.warehouseCode ?? '');
}

/** True when two line lists ask for the same stock (after merging). */
export function sameLines(a: readonly RequestedLine[], b: readonly RequestedLine[]): boolean {
  const x = mergeLines(a);
  const y = mergeLines(b);
  return (
    x.length === y.length &&
    x.every((l, i) => l.sku === y[i].sku && l.warehouseCode === y[i].warehouseCode && l.quantity === y[i].quantity)
  );
}

type Comparable = Pick<OrderRequest, 'userId' | 'lines' | 'allocation' | 'amountCents' | 'campaignId'>;

/**
 * True when a repeated order request asks for what the first one did: the same user, stock,
 * allocation, price and campaign. Anything else under the same order id is another order
 * (ORDER_CONFLICT): its saga would otherwise run with the first one's body and amount.
 */
export function sameOrder(a: Comparable, b: Comparable): boolean {
  return (
    a.userId === b.userId &&
    a.amountCents === b.amountCents &&
    a.campaignId === b.campaignId &&
    sameLines(a.lines, b.lines) &&
    samePreferences(a.allocation, b.allocation)
  );
}

function samePreferences(a: OrderRequest['allocation'], b: OrderRequest['allocation']): boolean {
  const norm = (p: OrderRequest['allocation']) =>
    JSON.stringify([
      p?.preferredWarehouse,
      p?.deliveryRegion,
      p?.deliveryLocation?.latitude,
      p?.deliveryLocation?.longitude,
      p?.allowSplit ?? false,
    ]);
  return norm(a) === norm(b);
}

/** How one level's hold moves when an order's lines are edited: +taken, −given back. */
export interface LineDelta {
  readonly sku: string;
  readonly warehouseCode: string;
  readonly delta: number;
}

/**
 * What an edit moves: per SKU × warehouse, the new quantity less the held one (lines of the
 * same level merged), the unchanged ones left out, in lock order (byte order of sku, then
 * warehouse) so the increases and decreases of one edit lock their rows in one sequence.
 */
export function lineDeltas(held: readonly OrderLine[], wanted: readonly OrderLine[]): LineDelta[] {
  const deltas = new Map<string, LineDelta>();
  const add = (l: OrderLine, sign: number) => {
    const key = `${l.sku}\u0000${l.warehouseCode}`;
    const prev = deltas.get(key);
    deltas.set(key, { sku: l.sku, warehouseCode: l.warehouseCode, delta: (prev?.delta ?? 0) + sign * l.quantity });
  };
  for (const l of held) add(l, -1);
  for (const l of wanted) add(l, +1);
  return [...deltas.values()]
    .filter((d) => d.delta !== 0)
    .sort((a, b) => compareBytes(a.sku, b.sku) || compareBytes(a.warehouseCode, b.warehouseCode));
}
