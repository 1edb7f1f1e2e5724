/**
 * A relay's loop: one pass every `intervalMs`, at once again while a pass comes back full (more
 * may be waiting), a failed pass logged and retried at the next tick. `stop()` stops the timer
 * and waits for the pass in progress, so a draining process finishes what it started. The
 * cache relay and the event relay are such loops; each says only what one pass does.
 */
export interface PollingLoopOptions {
  readonly intervalMs: number;
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

export abstract class PollingLoop {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  protected constructor(
    /** Named in the log line of a failed pass ("cache relay pass failed"). */
    private readonly name: string,
    private readonly loop: PollingLoopOptions,
  ) {}

  /** One pass; resolves with whether it was full (then the next one runs at once). */
  protected abstract pass(): Promise<boolean>;

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
    } catch (err) {
      this.loop.log?.(`${this.name} pass failed; will retry`, { error: String(err) });
    }
    this.schedule(full ? 0 : this.loop.intervalMs);
  }
}
