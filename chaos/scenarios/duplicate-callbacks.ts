/**
 * 1. Duplicate payment callbacks: every order's webhook delivered 5 times concurrently →
 * exactly one confirmation (one CONFIRM ledger entry) per order, the same 200 to all five.
 */
import { stock } from '../../test/helpers/db';
import { pay, placeOrder, pMap } from '../client';
import { closeScenario, orderIds, type Scenario } from '../scenario';

const SKU = 'CHAOS-DUP';
const DELIVERIES = 5;

export const duplicateCallbacks: Scenario = {
  name: '1 duplicate callbacks x5',
  async run(stack, size) {
    await stock(stack.db, SKU, 'W1', size.orders);
    const ids = orderIds('dup', size.orders);
    const placed = await pMap(ids, 25, (id, i) => placeOrder(stack.api, id, `user-${i % 50}`, SKU));
    const problems: string[] = [];
    const refused = placed.filter((p) => p.status !== 201).length;
    if (refused > 0) problems.push(`${refused} orders not placed`);

    const answers = await pMap(ids, 10, async (id) =>
      Promise.all(Array.from({ length: DELIVERIES }, () => pay(stack.api, id))),
    );
    const paid = new Set(ids.filter((_, i) => answers[i].some((a) => a.status === 200)));
    const disagreeing = answers.filter(
      (five) => new Set(five.map((a) => `${a.status}:${String(a.body.result)}`)).size !== 1,
    ).length;
    if (disagreeing > 0) problems.push(`${disagreeing} orders got different answers to the same event`);
    const recoverFrom = Date.now();
    const row = await closeScenario(stack, {
      scenario: this.name,
      base: stack.api,
      orderIds: ids,
      paid,
      recoverFrom,
      problems,
    });

    const confirms = await stack.probe.confirmsOn(SKU);
    const twice = confirms.filter((c) => c.n !== 1).length;
    if (twice > 0 || confirms.length !== paid.size)
      row.problems.push(`${confirms.length} confirmations for ${paid.size} paid orders (${twice} confirmed twice)`);
    return { ...row, notes: `${paid.size * DELIVERIES} webhook deliveries, ${confirms.length} confirmations` };
  },
};
