import type { OrderLine, OrderRequest } from './types';

/**
 * Merges lines of the same SKU and warehouse and sorts them in one fixed order.
 *
 * Merging makes "2 + 3 of the same item" one conditional update of 5, so a hold can never
 * be half-taken on one row. The fixed (sku, warehouse) order means every transaction locks
 * level rows in the same sequence, so two orders touching the same rows cannot deadlock.
 */
export function mergeLines(lines: readonly OrderLine[]): OrderLine[] {
  const merged = new Map<string, OrderLine>();
  for (const line of lines) {
    const key = `${line.sku}\u0000${line.warehouseCode}`;
    const prev = merged.get(key);
    merged.set(key, prev ? { ...prev, quantity: prev.quantity + line.quantity } : { ...line });
  }
  return [...merged.values()].sort(compareLines);
}

function compareLines(a: OrderLine, b: OrderLine): number {
  if (a.sku !== b.sku) return a.sku < b.sku ? -1 : 1;
  if (a.warehouseCode !== b.warehouseCode) return a.warehouseCode < b.warehouseCode ? -1 : 1;
  return 0;
}

/** True when two line lists ask for the same stock (after merging). */
export function sameLines(a: readonly OrderLine[], b: readonly OrderLine[]): boolean {
  const x = mergeLines(a);
  const y = mergeLines(b);
  return (
    x.length === y.length &&
    x.every(
      (l, i) => l.sku === y[i].sku && l.warehouseCode === y[i].warehouseCode && l.quantity === y[i].quantity,
    )
  );
}

/** True when a repeated order request asks for what the first one did. */
export function sameOrder(a: Pick<OrderRequest, 'userId' | 'lines'>, b: Pick<OrderRequest, 'userId' | 'lines'>): boolean {
  return a.userId === b.userId && sameLines(a.lines, b.lines);
}
