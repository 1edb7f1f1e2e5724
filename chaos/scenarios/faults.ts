/**
 * Scenarios 3–6: a sale with a process or connection fault in the middle. Each must end
 * with every saga finished, nothing oversold or lost, and the invariants intact.
 */
import { eventually } from '../../test/helpers/app';
import { call, sleep } from '../client';
import { closeSale, saleWithFault } from '../sale';
import type { Scenario } from '../scenario';
import { watchInventory } from './inventory-watch';

/** 3. Redis killed (SIGKILL) mid-sale and restarted empty: answers stay right, the checker repairs the cache. */
export const redisKilled: Scenario = {
  name: '3 Redis killed mid-sale',
  async run(stack, size) {
    const sku = 'CHAOS-REDIS';
    const watch = watchInventory(stack, sku, Math.floor(size.orders * 0.8));
    const sale = await saleWithFault(stack, {
      prefix: 'redis',
      sku,
      orders: size.orders,
      fault: async () => {
        await stack.redis.kill();
        await sleep(3_000);
        await stack.redis.start();
      },
    });
    const reads = await watch.stop();
    // Once the relay has caught up, the checker must find the cache equal to the database.
    await eventually(
      () => stack.probe.cacheOutboxCount(),
      (n) => n === 0,
      60_000,
    );
    await call(stack.api, 'GET', `/inventory/${sku}`);
    const check = (await stack.temporal.workflow.execute('cacheCheckWorkflow', {
      taskQueue: 'chaos',
      workflowId: `chaos-cache-check-${Date.now()}`,
      args: [{ hotPercent: 100, sample: 100, driftPercent: 1 }],
    })) as { compared: number; drifted: number };
    const problems = [...sale.problems, ...reads.problems];
    if (check.compared === 0 || check.drifted > 0)
      problems.push(`checker compared ${check.compared}, drifted ${check.drifted}`);
    const row = await closeSale(stack, this.name, sale, { problems });
    return {
      ...row,
      notes: `${reads.total} inventory reads during the sale, ${reads.wrong} wrong; checker compared ${check.compared}, drifted ${check.drifted}`,
    };
  },
};

/** 4. The worker killed with SIGKILL twice mid-sale, restarted each time. */
export const workerKilled: Scenario = {
  name: '4 worker SIGKILL x2',
  async run(stack, size) {
    const sale = await saleWithFault(stack, {
      prefix: 'wkill',
      sku: 'CHAOS-WORKER',
      orders: size.orders,
      fault: async () => {
        await stack.restartWorker('SIGKILL');
        await sleep(1_000);
        await stack.restartWorker('SIGKILL');
      },
    });
    return closeSale(stack, this.name, sale, { notes: 'worker pid killed twice, restarted' });
  },
};

/** 5. The Temporal dev server stopped and restarted on its SQLite file mid-sale. */
export const temporalRestarted: Scenario = {
  name: '5 Temporal restart',
  async run(stack, size) {
    const sale = await saleWithFault(stack, {
      prefix: 'trestart',
      sku: 'CHAOS-TEMPORAL',
      orders: size.orders,
      fault: () => stack.restartTemporal(),
    });
    return closeSale(stack, this.name, sale, { notes: 'dev server restarted on its SQLite file' });
  },
};

/**
 * 6. The service's database sessions ended three times mid-sale: PostgreSQL's backends by
 * pg_terminate_backend, MariaDB's by KILL CONNECTION (the probe's killServiceSessions).
 */
export const pgTerminated: Scenario = {
  name: '6 pg_terminate_backend',
  async run(stack, size) {
    let terminated = 0;
    const sale = await saleWithFault(stack, {
      prefix: 'pgkill',
      sku: 'CHAOS-PG',
      orders: size.orders,
      fault: async () => {
        for (let i = 0; i < 3; i += 1) {
          terminated += await stack.probe.killServiceSessions();
          await sleep(500);
        }
      },
    });
    const row = await closeSale(stack, this.name, sale);
    const what = stack.store === 'mariadb' ? 'sessions killed (KILL CONNECTION)' : 'backends terminated';
    return { ...row, notes: `${terminated} ${what}` };
  },
};
