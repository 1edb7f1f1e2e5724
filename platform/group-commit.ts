/**
 * Group commit: callers submit work under a key (one hot row); at most `inFlight` batches per
 * key run at once, and when one finishes everything queued meanwhile goes out as the next batch
 * (up to `maxBatch`). A batch is never held back to fill up: an idle key runs a lone item at
 * once, a busy key amortises one transaction over everything that arrived during the last one.
 *
 * Why more than one in flight: with one, the hot row sits idle from each commit until this
 * process has taken the answer and sent the next batch — under a burst that gap is the event
 * loop's, not the database's, and can exceed the batch itself. With two, the next batch is
 * already queued on the row's lock in PostgreSQL when the previous one commits. The batches'
 * SQL takes its locks in one order (users, the row, then each order's claim in byte order), as
 * it must anyway for several API processes, so concurrent batches wait on each other and never
 * deadlock.
 */

interface Waiting<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (err: unknown) => void;
}

interface Queue<I, O> {
  readonly waiting: Waiting<I, O>[];
  /** Batches of this key running now. */
  running: number;
}

export class GroupCommit<I, O> {
  private readonly queues = new Map<string, Queue<I, O>>();

  /** `run(key, items)` returns one result per item, in order; a throw fails the whole batch. */
  constructor(
    private readonly run: (key: string, items: I[]) => Promise<O[]>,
    private readonly maxBatch = 100,
    private readonly inFlight = 1,
  ) {}

  /**
   * Queues `item` for the next batch of `key`. If `signal` aborts while the item is still
   * queued, it is withdrawn (it never reaches a batch: nothing of it is done) and the promise
   * rejects with the signal's reason; once its batch is running, the batch's answer stands.
   */
  submit(key: string, item: I, signal?: AbortSignal): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const queue = this.queues.get(key) ?? { waiting: [], running: 0 };
      this.queues.set(key, queue);
      const withdraw = () => {
        const at = queue.waiting.indexOf(waiting);
        if (at < 0) return; // already in a batch
        queue.waiting.splice(at, 1);
        reject(signal!.reason);
      };
      const settle =
        <T>(done: (value: T) => void) =>
        (value: T) => {
          signal?.removeEventListener('abort', withdraw);
          done(value);
        };
      const waiting: Waiting<I, O> = { item, resolve: settle(resolve), reject: settle(reject) };
      queue.waiting.push(waiting);
      signal?.addEventListener('abort', withdraw, { once: true });
      if (queue.running < this.inFlight) void this.drain(key, queue);
    });
  }

  /** Whether any batch is queued or running. */
  get busy(): boolean {
    return this.queues.size > 0;
  }

  /** Items queued and not yet in a batch, over all keys (for metrics and tests). */
  get queued(): number {
    let n = 0;
    for (const q of this.queues.values()) n += q.waiting.length;
    return n;
  }

  private async drain(key: string, queue: Queue<I, O>): Promise<void> {
    queue.running += 1;
    while (queue.waiting.length > 0) {
      const batch = queue.waiting.splice(0, this.maxBatch);
      try {
        const results = await this.run(
          key,
          batch.map((w) => w.item),
        );
        batch.forEach((w, i) => w.resolve(results[i]));
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    queue.running -= 1;
    if (queue.running === 0) this.queues.delete(key);
  }
}
