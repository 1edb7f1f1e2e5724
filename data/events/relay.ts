/**
 * The event relay: positions committed events (assign.ts) every `intervalMs`, at once again
 * while a pass comes back full. It runs in the worker, beside the cache and saga relays; the
 * feed also runs a pass before it reads (api/routes/events), so a feed is fresh even when no
 * worker runs. Later channels (webhooks, NATS) read positioned events after this.
 */
import { PollingLoop, type PollingLoopOptions } from '../../platform/polling-loop';
import type { Db } from '../db';
import { ASSIGN_BATCH, assignPositions } from './assign';

export interface EventRelayOptions extends PollingLoopOptions {
  readonly batch?: number;
}

/** The relay loop; `stop()` waits for the pass in progress. */
export class EventRelay extends PollingLoop {
  constructor(
    private readonly db: Db,
    private readonly options: EventRelayOptions,
  ) {
    super('event relay', options);
  }

  protected async pass(): Promise<boolean> {
    const batch = this.options.batch ?? ASSIGN_BATCH;
    return (await assignPositions(this.db, batch)) === batch;
  }
}
