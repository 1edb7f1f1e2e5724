/** The cache's circuit breaker and the Redis reconnect backoff (pure, with a fake clock). */
import { BreakerState, CircuitBreaker } from '../../platform/breaker';
import { reconnectDelay } from '../../platform/redis';
import { decodeFill, FillResult } from '../../data/cache/scripts';

describe('CircuitBreaker', () => {
  let now = 0;
  const changes: BreakerState[] = [];
  const breaker = () =>
    new CircuitBreaker({ failures: 3, cooldownMs: 1_000, now: () => now, onChange: (s) => changes.push(s) });

  beforeEach(() => {
    now = 0;
    changes.length = 0;
  });

  it('opens after N consecutive failures and then refuses without calling', () => {
    const b = breaker();
    b.failure();
    b.failure();
    b.success();
    b.failure();
    b.failure();
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.state).toBe(BreakerState.OPEN);
    expect(b.allow()).toBe(false);
  });

  it('lets exactly one trial through after the cooldown; its result decides', () => {
    const b = breaker();
    for (let i = 0; i < 3; i += 1) b.failure();
    now = 1_000;
    expect(b.allow()).toBe(true);
    expect(b.allow()).toBe(false);
    b.failure();
    expect(b.state).toBe(BreakerState.OPEN);
    now = 2_000;
    expect(b.allow()).toBe(true);
    b.success();
    expect(b.state).toBe(BreakerState.CLOSED);
    expect(changes).toEqual(['open', 'half_open', 'open', 'half_open', 'closed']);
  });
});

it('reconnect backoff doubles, is capped at 5 s, and is jittered ±20%', () => {
  expect([1, 2, 3, 4].map((n) => reconnectDelay(n, () => 0.5))).toEqual([100, 200, 400, 800]);
  expect(reconnectDelay(50, () => 0.5)).toBe(5_000);
  expect(reconnectDelay(50, () => 0)).toBe(4_000);
  expect(reconnectDelay(50, () => 1)).toBe(6_000);
});

it('fill-1.lua return codes decode, and an unknown one is a bug', () => {
  expect(decodeFill(1)).toBe(FillResult.WRITTEN);
  expect(decodeFill(0)).toBe(FillResult.STALE);
  expect(() => decodeFill(7)).toThrow('unknown code 7');
});
