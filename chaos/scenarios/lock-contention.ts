/**
 * 2. Releases under lock contention: holds expire while another transaction keeps their
 * stock rows locked well past the forced lock_timeout (3 s) → the releases fail fast, are
 * retried with backoff, and all go through once the lock is gone: 0 ghost holds.
 */
import { stock } from '../../test/helpers/db';
import { placeOrder, pMap, sleep } from '../client';
import { closeScenario, orderIds, type Scenario } from '../scenario';
import type { Stack } from '../stack';

const SKU = 'CHAOS-LOCK';
/** Held this long after the last expiry: more than two lock_timeouts. */
const HOLD_PAST_EXPIRY_MS = 7_000;

async function releaseRetries(stack: Stack): Promise<number> {
  const text = await (await fetch(stack.workerMetrics)).text();
  const line = text
    .split('\n')
    .find((l) => l.startsWith('stockhold_activity_retries_total') && l.includes('activity="release"'));
  return line ? Number(line.split(' ').pop()) : 0;
}

export const lockContention: Scenario = {
  name: '2 releases under lock contention',
  async run(stack, size) {
    await stock(stack.db, SKU, 'W1', size.orders);
    const ids = orderIds('lock', size.orders);
    const retriesBefore = await releaseRetries(stack);
    const placingFrom = Date.now();
    const placed = await pMap(ids, 50, (id, i) => placeOrder(stack.shortApi, id, `user-${i % 50}`, SKU));
    const placingMs = Date.now() - placingFrom;
    const problems = placed.some((p) => p.status !== 201)
      ? [`${placed.filter((p) => p.status !== 201).length} orders not placed`]
      : [];

    // The level's rows locked by a transaction of the suite's own (PostgreSQL or MariaDB, same
    // meaning: the service's lock wait is 3 s on both), held until well past the last expiry:
    // every release that comes due now must wait, fail and retry.
    const lockedAt = Date.now();
    const lock = await stack.probe.lockLevels(SKU);
    const expiredUnderLock = lock.dueUnderLock;
    try {
      await sleep(Math.max(0, lock.lastExpiry.getTime() - Date.now()) + HOLD_PAST_EXPIRY_MS);
    } finally {
      await lock.release();
    }
    const lockedMs = Date.now() - lockedAt;
    const recoverFrom = Date.now();
    const row = await closeScenario(stack, {
      scenario: this.name,
      base: stack.shortApi,
      orderIds: ids,
      paid: new Set(),
      recoverFrom,
      problems,
    });
    const ghosts = await stack.probe.openHoldsOn(SKU);
    const retried = (await releaseRetries(stack)) - retriesBefore;
    if (expiredUnderLock > 0 && retried === 0) row.problems.push('no release was retried: the lock did not contend');
    return {
      ...row,
      stuck: row.stuck + ghosts,
      notes: `placed in ${(placingMs / 1000).toFixed(1)} s; rows locked ${(lockedMs / 1000).toFixed(1)} s; ${expiredUnderLock} holds expired under the lock; ${retried} release retries; ${ghosts} ghost holds`,
    };
  },
};
