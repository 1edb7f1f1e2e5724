/**
 * 12. Scenario 9 again (its own campaigns and orders, `p12…`) with the worker starved of CPU:
 * busy loops beside the stack, two per core, for the scenario's duration only. A starved
 * worker runs each saga's workflow tasks late, so a payment signal and a release's result
 * meet in one activation — how the lost payment of issue 16 item 1 showed.
 */
import { startCpuLoad } from '../cpu-load';
import type { Scenario } from '../scenario';
import { shortTtlSeconds } from '../stack';
import { paymentEndingsScenario } from './payment-endings';

/** The scenario's bound past its holds' TTL: the load never outlives it, whatever the scenario does. */
const LOAD_PAST_TTL_MS = 60_000;

const endings = paymentEndingsScenario('12 payments at every saga ending, worker starved of CPU', 'p12');

export const paymentEndingsStarved: Scenario = {
  name: endings.name,
  async run(stack, size) {
    // Placing, the faults and the deliveries take about two TTLs (groups (a) and (b) expire in turn).
    const boundMs = 2 * shortTtlSeconds(size.orders) * 1_000 + LOAD_PAST_TTL_MS;
    const load = startCpuLoad(boundMs);
    try {
      const row = await endings.run(stack, size);
      return { ...row, notes: `${load.burners} busy loops beside the stack (for at most ${boundMs / 1000} s); ${row.notes ?? ''}` };
    } finally {
      await load.stop();
    }
  },
};
