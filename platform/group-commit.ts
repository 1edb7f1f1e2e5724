/**
 * Group commit: callers submit work under a key (one hot row); at most one batch per key is
 * in flight, and when it finishes everything queued meanwhile goes out as the next batch (up
 * to `maxBatch`). A batch is never held back to fill up: an idle key runs a lone item at once,
 * a busy key amortises one transaction over everything that arrived during the last one.
 */

interface Waiting<I, O> {
  readonly item: I;
  readonly resolve: (value: O) => void;
  readonly reject: (err: unknown) => void;
}

export class GroupCommit<I, O> {
  private readonly queues = new Map<string, { waiting: Waiting<I, O>[]; running: boolean }>();

  /** `run(key, items)` returns one result per item, in order; a throw fails the whole batch. */
  constructor(
    private readonly run: (key: string, items: I[]) => Promise<O[]>,
    private readonly maxBatch = 100,
  ) {}

  submit(key: string, item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      const queue = this.queues.get(key) ?? { waiting: [], running: false };
      this.queues.set(key, queue);
      queue.waiting.push({ item, resolve, reject });
      if (!queue.running) void this.drain(key, queue);
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

  private async drain(key: string, queue: { waiting: Waiting<I, O>[]; running: boolean }): Promise<void> {
    queue.running = true;
    while (queue.waiting.length > 0) {
      const batch = queue.waiting.splice(0, this.maxBatch);
      try {
        const results = await this.run(key, batch.map((w) => w.item));
        batch.forEach((w, i) => w.resolve(results[i]));
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
    queue.running = false;
    this.queues.delete(key);
  }
}
