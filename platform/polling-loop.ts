/**
 * A relay's loop: one pass every `intervalMs`, at once again while a pass comes back full (more
 * may be waiting), a failed pass logged and retried at the next tick. `stop()` stops the timer
 * and waits for the pass in progress, so a draining process finishes what it started. The
 * cache relay, the event relay and the NATS channel are such loops; each says what one pass
 * does, and may say how it waits after failures (`nextDelay`) and what a failure or a recovery
 * means to it (`onFailure`, `onRecovery`).
 */
export interface PollingLoopOptions {
  readonly intervalMs: number;
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

export abstract class PollingLoop {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  /** Passes failed in a row (0 after a pass that went through). */
  private failures = 0;

  protected constructor(
    /** Named in the log line of a failed pass ("cache relay pass failed"). */
    private readonly name: string,
    private readonly loop: PollingLoopOptions,
  ) {}

  /** One pass; resolves with whether it was full (then the next one runs at once). */
  protected abstract pass(): Promise<boolean>;

  /** The pause before the next pass: at once after a full one, else the interval. */
  protected nextDelay(full: boolean, _failures: number): number {
    return full ? 0 : this.loop.intervalMs;
  }

  /** A pass failed (`failures` in a row): logged; the next tick retries. */
  protected onFailure(err: unknown, _failures: number): Promise<void> | void {
    this.loop.log?.(`${this.name} pass failed; will retry`, { error: String(err) });
  }

  /** A pass went through after `failures` failed ones. */
  protected onRecovery(_failures: number): void {}

  start(): this {
    this.schedule(0);
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick();
    }, delayMs);
  }

  private async tick(): Promise<void> {
    let full = false;
    try {
      full = await this.pass();
      if (this.failures > 0) this.onRecovery(this.failures);
      this.failures = 0;
    } catch (err) {
      this.failures++;
      await this.onFailure(err, this.failures);
    }
    this.schedule(this.nextDelay(full, this.failures));
  }
}
