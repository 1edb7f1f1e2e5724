/**
 * A circuit breaker for an optional dependency (the Redis cache). After `failures`
 * consecutive failures it opens: callers skip the dependency at no cost for `cooldownMs`,
 * then one trial call is let through (half-open); its success closes the breaker.
 */

/** Breaker states, as exposed in metrics and logs. */
export const BreakerState = { CLOSED: 'closed', OPEN: 'open', HALF_OPEN: 'half_open' } as const;
export type BreakerState = (typeof BreakerState)[keyof typeof BreakerState];

export interface BreakerOptions {
  readonly failures: number;
  readonly cooldownMs: number;
  /** Called on every state change (metrics, logs). */
  readonly onChange?: (state: BreakerState) => void;
  readonly now?: () => number;
}

export class CircuitBreaker {
  private consecutiveFailures = 0;
  private openUntil = 0;
  private trialInFlight = false;
  private current: BreakerState = BreakerState.CLOSED;

  constructor(private readonly options: BreakerOptions) {}

  get state(): BreakerState {
    return this.current;
  }

  /** Whether a call may go through now; a true answer in half-open state is the one trial. */
  allow(): boolean {
    if (this.current === BreakerState.CLOSED) return true;
    if (this.current === BreakerState.OPEN) {
      if (this.now() < this.openUntil) return false;
      this.transition(BreakerState.HALF_OPEN);
    }
    if (this.trialInFlight) return false;
    this.trialInFlight = true;
    return true;
  }

  success(): void {
    this.consecutiveFailures = 0;
    this.trialInFlight = false;
    if (this.current !== BreakerState.CLOSED) this.transition(BreakerState.CLOSED);
  }

  failure(): void {
    this.consecutiveFailures += 1;
    this.trialInFlight = false;
    if (this.current === BreakerState.HALF_OPEN || this.consecutiveFailures >= this.options.failures) {
      this.openUntil = this.now() + this.options.cooldownMs;
      if (this.current !== BreakerState.OPEN) this.transition(BreakerState.OPEN);
    }
  }

  private transition(state: BreakerState): void {
    this.current = state;
    this.options.onChange?.(state);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }
}
