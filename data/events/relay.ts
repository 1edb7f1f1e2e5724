/**
 * The event relay: positions committed events (assign.ts) every `intervalMs`, at once again
 * while a pass comes back full. It runs in the worker, beside the cache and saga relays; the
 * feed also runs a pass before it reads (api/routes/events), so a feed is fresh even when no
 * worker runs. Later channels (webhooks, NATS) read positioned events after this.
 */
import type { Db } from '../db';
import { ASSIGN_BATCH, assignPositions } from './assign';

export interface EventRelayOptions {
  readonly intervalMs: number;
  readonly batch?: number;
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

/** The relay loop; `stop()` waits for the pass in progress. */
export class EventRelay {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;

  constructor(
    private readonly db: Db,
    private readonly options: EventRelayOptions,
  ) {}

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
      this.running = this.pass();
    }, delayMs);
  }

  private async pass(): Promise<void> {
    const batch = this.options.batch ?? ASSIGN_BATCH;
    let full = false;
    try {
      full = (await assignPositions(this.db, batch)) === batch;
    } catch (err) {
      this.options.log?.('event relay pass failed; will retry', { error: String(err) });
    }
    this.schedule(full ? 0 : this.options.intervalMs);
  }
}
