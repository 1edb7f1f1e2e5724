/**
 * Reads GET /inventory/:sku in a loop during a sale and flags any answer that cannot be
 * right: not a 200, a negative or inconsistent figure, or more on hand than ever received.
 */
import { call, sleep } from '../client';
import type { Stack } from '../stack';

export interface WatchResult {
  readonly total: number;
  readonly wrong: number;
  readonly problems: string[];
}

export function watchInventory(stack: Stack, sku: string, received: number): { stop(): Promise<WatchResult> } {
  let running = true;
  let total = 0;
  const problems: string[] = [];
  const loop = (async () => {
    while (running) {
      total += 1;
      try {
        const res = await call(stack.api, 'GET', `/inventory/${sku}`);
        const t = res.body.total as
          { onHand: number; reserved: number; damaged: number; qualityControl: number; available: number } | undefined;
        const ok =
          res.status === 404 ||
          (res.status === 200 &&
            t !== undefined &&
            t.available >= 0 &&
            t.reserved >= 0 &&
            t.onHand <= received &&
            t.available === t.onHand - t.reserved - t.damaged - t.qualityControl);
        if (!ok) problems.push(`inventory read → ${res.status} ${JSON.stringify(res.body).slice(0, 120)}`);
      } catch (err) {
        problems.push(`inventory read failed: ${(err as Error).message}`);
      }
      await sleep(25);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { total, wrong: problems.length, problems: problems.slice(0, 3) };
    },
  };
}
