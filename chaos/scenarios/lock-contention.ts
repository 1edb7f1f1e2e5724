/**
 * 2. Releases under lock contention: holds expire while another transaction keeps their
 * stock rows locked well past the forced lock_timeout (3 s) → the releases fail fast, are
 * retried with backoff, and all go through once the lock is gone: 0 ghost holds.
 */
import { Client } from 'pg';
import { TEST_DATABASE_URL } from '../../test/helpers/env';
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

    const locker = new Client({ connectionString: TEST_DATABASE_URL });
    await locker.connect();
    let lockedMs = 0;
    let expiredUnderLock = 0;
    try {
      await locker.query('BEGIN');
      const lockedAt = Date.now();
      await locker.query(`SELECT * FROM inventory_levels WHERE sku = $1 FOR UPDATE`, [SKU]);
      // Hold until well past the last expiry: every release that comes due now must wait, fail and retry.
      const { rows } = await locker.query<{ last: Date; due: number }>(
        `SELECT max(r.expires_at) AS last, count(*) FILTER (WHERE r.expires_at > now())::int AS due
           FROM reservations r JOIN reservation_lines l ON l.reservation_id = r.id WHERE l.sku = $1`,
        [SKU],
      );
      expiredUnderLock = rows[0].due;
      await sleep(Math.max(0, rows[0].last.getTime() - Date.now()) + HOLD_PAST_EXPIRY_MS);
      await locker.query('COMMIT');
      lockedMs = Date.now() - lockedAt;
    } finally {
      await locker.end();
    }
    const recoverFrom = Date.now();
    const row = await closeScenario(stack, {
      scenario: this.name,
      base: stack.shortApi,
      orderIds: ids,
      paid: new Set(),
      recoverFrom,
      problems,
    });
    const ghosts = await stack.db.reservation.count({ where: { status: 'RESERVED', lines: { some: { sku: SKU } } } });
    const retried = (await releaseRetries(stack)) - retriesBefore;
    if (expiredUnderLock > 0 && retried === 0) row.problems.push('no release was retried: the lock did not contend');
    return {
      ...row,
      stuck: row.stuck + ghosts,
      notes: `placed in ${(placingMs / 1000).toFixed(1)} s; rows locked ${(lockedMs / 1000).toFixed(1)} s; ${expiredUnderLock} holds expired under the lock; ${retried} release retries; ${ghosts} ghost holds`,
    };
  },
};
