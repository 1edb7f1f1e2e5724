/**
 * 7. Late payment after the hold was released: every order expires, rivals then buy half
 * the stock, and only then do the original payments arrive → each is re-reserved and
 * confirmed, or ends REFUND_REQUIRED when the stock is gone; never lost.
 */
import { eventually } from '../../test/helpers/app';
import { stock } from '../../test/helpers/db';
import { awaitEndings, pay, placeOrder, pMap } from '../client';
import { closeScenario, orderIds, type Scenario } from '../scenario';

const SKU = 'CHAOS-LATE';

export const latePayment: Scenario = {
  name: '7 late payment after release',
  async run(stack, size) {
    await stock(stack.db, SKU, 'W1', size.orders);
    const ids = orderIds('late', size.orders);
    const rivals = orderIds('rival', Math.floor(size.orders / 2));
    await pMap(ids, 25, (id, i) => placeOrder(stack.shortApi, id, `user-${i % 50}`, SKU));
    const expired = await awaitEndings(stack.shortApi, ids);
    const problems = [...expired.values()].some((s) => s.status !== 'RELEASED')
      ? ['not every hold expired before the late payments']
      : [];

    await pMap(rivals, 25, (id, i) => placeOrder(stack.api, id, `rival-${i % 50}`, SKU));
    await pMap(rivals, 25, (id) => pay(stack.api, id));
    const answers = await pMap(ids, 25, (id) => pay(stack.api, id));
    const paid = new Set(ids.filter((_, i) => answers[i].status === 200));
    const recoverFrom = Date.now();

    // Settlement results as GET /orders/:id reports them (latePayments), read at the source.
    const settledResults = () => stack.probe.paymentEventResults(ids);
    const settled = await eventually(
      settledResults,
      (results) => results.length === ids.length && results.every((r) => r === 'CONFIRMED' || r === 'REFUND_REQUIRED'),
      120_000,
    ).catch(() => [] as string[]);
    const row = await closeScenario(stack, {
      scenario: this.name,
      base: stack.api,
      orderIds: [...ids, ...rivals],
      paid: new Set([...paid, ...rivals]),
      recoverFrom,
      problems,
    });
    const reReserved = settled.filter((r) => r === 'CONFIRMED').length;
    const refunds = settled.filter((r) => r === 'REFUND_REQUIRED').length;
    if (reReserved + refunds !== ids.length)
      row.problems.push(`${ids.length - reReserved - refunds} late payments unsettled`);
    if (reReserved !== size.orders - rivals.length)
      row.problems.push(`${reReserved} re-reserved, expected ${size.orders - rivals.length}`);
    return {
      ...row,
      outcomes: { ...row.outcomes, 'late→CONFIRMED': reReserved, 'late→REFUND_REQUIRED': refunds },
      notes: `${rivals.length} rival orders bought half the stock first`,
    };
  },
};
