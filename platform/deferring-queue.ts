/**
 * Work that follows an answer the API already gave: a saga start after a hold committed, a
 * payment delivery after the webhook's commit. At most `concurrency` jobs run at once; the
 * rest wait in memory (lost with the process: their outbox rows stay for the relay). While
 * `busy()` says shoppers are being answered (a burst on a hot row, many requests in flight),
 * jobs wait — the answers come first, and a job whose fact is committed loses nothing by
 * waiting — for at most `maxDeferMs`. A job still waiting at that bound while the API is still
 * busy is left to the worker's relay (its outbox row is the relay's already): a sustained
 * stream of shoppers never makes this process spend its CPU on Temporal calls, which cost
 * several times an answer here (a saga start ~1.2 ms of client CPU, a signal ~0.4 ms:
 * BENCHMARKS.md, issue 21). When the burst ends first, the jobs run here as before.
 */
export abstract class DeferringQueue<T> {
  private readonly waiting: { item: T; since: number }[] = [];
  private deferTimer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private idle: (() => void) | undefined;
  busy: () => boolean = () => false;
  maxDeferMs = 2_000;
  /** Jobs queued longer than this are the relay's (its grace), busy or not; Infinity: never. */
  handOffMs = Number.POSITIVE_INFINITY;
  /**
   * Jobs left to the relay (metrics and tests): still waiting at `maxDeferMs` while the API was
   * busy, or queued past the relay's grace (`handOffMs`, so a backlog is not done twice over).
   */
  leftToRelay = 0;

  constructor(private readonly concurrency: number) {}

  /** Starts one job and handles its own failure. */
  protected abstract run(item: T): Promise<unknown>;

  /** Jobs that may run at once now: `concurrency`, or less where a subclass adapts it. */
  protected limit(): number {
    return this.concurrency;
  }

  protected push(item: T): void {
    this.waiting.push({ item, since: Date.now() });
    this.pump();
  }

  /** Jobs waiting or running (tests and shutdown wait for 0). */
  get pending(): number {
    return this.waiting.length + this.inFlight;
  }

  /** Shutdown: drops what waits; resolves once the running jobs have ended, or after `timeoutMs`. */
  protected async drain(timeoutMs: number): Promise<void> {
    this.waiting.length = 0;
    if (this.inFlight === 0) return;
    await new Promise<void>((resolve) => {
      this.idle = resolve;
      setTimeout(resolve, timeoutMs).unref();
    });
  }

  private pump(): void {
    if (this.waiting.length > 0 && this.busy()) {
      // Still answering shoppers: what reached its bound goes to the relay, the rest waits on.
      const now = Date.now();
      while (this.waiting.length > 0 && now - this.waiting[0].since >= this.maxDeferMs) {
        this.waiting.shift();
        this.leftToRelay += 1;
      }
      if (this.waiting.length > 0)
        this.deferTimer ??= setTimeout(() => {
          this.deferTimer = undefined;
          this.pump();
        }, 50).unref();
      return;
    }
    while (this.inFlight < this.limit() && this.waiting.length > 0) {
      const { item, since } = this.waiting.shift()!;
      if (Date.now() - since >= this.handOffMs) {
        this.leftToRelay += 1;
        continue;
      }
      const job = this.run(item);
      this.inFlight += 1;
      void job
        .catch(() => undefined)
        .finally(() => {
          this.inFlight -= 1;
          if (this.inFlight === 0) this.idle?.();
          this.pump();
        });
    }
  }
}
