/**
 * A flash sale with a fault in the middle: orders are placed and paid concurrently (the
 * clients retry 5xx and dropped connections with the same ids, as real shops and payment
 * providers do), and the fault is injected once a share of the orders is through.
 */
import { stock } from '../test/helpers/db';
import { pay, placeOrder, pMap } from './client';
import { closeScenario, orderIds } from './scenario';
import type { Row } from './table';
import type { Stack } from './stack';

export interface SaleOptions {
  readonly prefix: string;
  readonly sku: string;
  readonly orders: number;
  /** The fault; resolves when it is over (the service may still be recovering). */
  readonly fault: () => Promise<void>;
  /** Share of the orders through before the fault starts (0..1). */
  readonly faultAt?: number;
}

export interface SaleResult {
  readonly ids: string[];
  readonly paid: Set<string>;
  /** When both the sale and the fault were over. */
  readonly recoverFrom: number;
  readonly problems: string[];
}

export async function saleWithFault(stack: Stack, options: SaleOptions): Promise<SaleResult> {
  // 20% fewer units than orders: the sale must refuse some, and never oversell.
  await stock(stack.db, options.sku, 'W1', Math.floor(options.orders * 0.8));
  const ids = orderIds(options.prefix, options.orders);
  const paid = new Set<string>();
  const problems: string[] = [];
  let through = 0;
  let faultDone: Promise<void> | undefined;
  const trigger = Math.max(1, Math.floor(options.orders * (options.faultAt ?? 0.3)));
  await pMap(ids, 20, async (id, i) => {
    const placed = await placeOrder(stack.api, id, `user-${i % 50}`, options.sku);
    if (placed.status === 201) {
      const answer = await pay(stack.api, id);
      if (answer.status === 200) paid.add(id);
      else problems.push(`payment of ${id} → ${answer.status}`);
    } else if (placed.status !== 409) {
      problems.push(`order ${id} → ${placed.status} ${String(placed.body.code)}`);
    }
    through += 1;
    if (through === trigger) faultDone = options.fault();
  });
  await faultDone;
  // Recovery is timed from when both the sale and the fault are over.
  return { ids, paid, recoverFrom: Date.now(), problems: problems.slice(0, 5) };
}

/** Closes a sale-with-fault scenario: every order ended, every payment settled, the invariants held. */
export function closeSale(
  stack: Stack,
  scenario: string,
  sale: SaleResult,
  extra: { problems?: string[]; notes?: string } = {},
): Promise<Row> {
  return closeScenario(stack, {
    scenario,
    base: stack.api,
    orderIds: sale.ids,
    paid: sale.paid,
    recoverFrom: sale.recoverFrom,
    problems: extra.problems ?? sale.problems,
    ...(extra.notes !== undefined ? { notes: extra.notes } : {}),
  });
}
