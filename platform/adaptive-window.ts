/**
 * A concurrency window that adapts to a dependency's latency, as TCP's congestion window does
 * (AIMD): each call answered within `targetMs` widens it by 1/window (about one more call in
 * flight per window's worth of fast answers), a slow answer or a failure halves it — at most
 * once per window's worth of calls, so one burst of slow answers counts as one signal. It stays
 * within [min, max]. Pure: the caller measures and reports; nothing here reads a clock.
 */
export interface AdaptiveWindowOptions {
  /** Calls in flight at most (the configured concurrency). */
  readonly max: number;
  /** Calls in flight at least, however slow the dependency (default 1). */
  readonly min?: number;
  /** An answer slower than this is a congestion signal (ms). */
  readonly targetMs: number;
}

export class AdaptiveWindow {
  private size: number;
  private readonly min: number;
  /** Answers still to come from calls sent before the last decrease: they do not halve it again. */
  private ignoreSignals = 0;

  constructor(private readonly options: AdaptiveWindowOptions) {
    this.min = Math.max(1, options.min ?? 1);
    this.size = Math.max(this.min, options.max);
  }

  /** Calls that may be in flight now. */
  get limit(): number {
    return Math.max(this.min, Math.floor(this.size));
  }

  /** One call answered after `ms`; `failed`: it failed (unreachable, timed out, refused). */
  record(ms: number, failed = false): void {
    const congested = failed || ms > this.options.targetMs;
    if (this.ignoreSignals > 0) this.ignoreSignals -= 1;
    if (!congested) {
      this.size = Math.min(this.options.max, this.size + 1 / this.size);
      return;
    }
    if (this.ignoreSignals > 0) return;
    this.size = Math.max(this.min, this.size / 2);
    this.ignoreSignals = Math.ceil(this.size * 2);
  }
}
