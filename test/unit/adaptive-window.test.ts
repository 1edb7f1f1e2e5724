/**
 * The saga starts' adaptive window (platform/adaptive-window.ts), with made-up latencies: it
 * grows by about one per window of fast answers up to its maximum, halves on a slow answer or a
 * failure (once per window's worth: the calls already in flight do not halve it again), never
 * falls below its minimum, and grows back once the dependency is fast again.
 */
import { AdaptiveWindow } from '../../platform/adaptive-window';

it('starts at its maximum and stays there while answers are fast', () => {
  const w = new AdaptiveWindow({ max: 16, targetMs: 100 });
  for (let i = 0; i < 100; i += 1) w.record(20);
  expect(w.limit).toBe(16);
});

it('halves on a slow answer or a failure, once per window of answers, down to its minimum', () => {
  const w = new AdaptiveWindow({ max: 16, targetMs: 100 });
  w.record(500);
  expect(w.limit).toBe(8);
  // The 16 calls sent before the decrease answer slowly too: one signal, not sixteen.
  for (let i = 0; i < 15; i += 1) w.record(500);
  expect(w.limit).toBe(8);
  w.record(0, true); // a failure after those: the next halving
  expect(w.limit).toBe(4);
  for (let i = 0; i < 200; i += 1) w.record(0, true);
  expect(w.limit).toBe(1);
});

it('grows back by about one per window of fast answers', () => {
  const w = new AdaptiveWindow({ max: 16, targetMs: 100, min: 2 });
  for (let i = 0; i < 200; i += 1) w.record(1_000);
  expect(w.limit).toBe(2);
  const limits: number[] = [];
  for (let i = 0; i < 12; i += 1) {
    w.record(10);
    limits.push(w.limit);
  }
  // 2 → 2.5 → 2.9 → 3.2 …: additive, not a jump back to the maximum.
  expect(limits[0]).toBe(2);
  expect(limits[limits.length - 1]).toBeGreaterThanOrEqual(4);
  expect(limits[limits.length - 1]).toBeLessThan(8);
  for (let i = 0; i < 1_000; i += 1) w.record(10);
  expect(w.limit).toBe(16);
});
