/**
 * Work per key that only its latest request matters for (a cache refill after a commit): at
 * most one run per key at a time, and every request made while a run is going folds into one
 * more run after it. The last run for a key therefore always starts after its last request —
 * what a refill needs to see the last commit — however many requests came meanwhile. Under a
 * burst on one hot key (a hold batch committing every few milliseconds) that is two runs in
 * flight-and-queued instead of one per request.
 */
export class KeyedCoalescer {
  /** Keys with a run going; true when another run is due after it. */
  private readonly running = new Map<string, boolean>();
  /** Runs started so far (metrics and tests). */
  runs = 0;
  /** Requests folded into a run already due (metrics and tests). */
  folded = 0;

  constructor(
    private readonly work: (key: string) => Promise<unknown>,
    /** A run's failure: reported, never thrown (the next request runs again). */
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {}

  request(key: string): void {
    if (this.running.has(key)) {
      if (this.running.get(key)) this.folded += 1;
      this.running.set(key, true);
      return;
    }
    this.running.set(key, false);
    void this.loop(key);
  }

  /** Keys with a run going or due (tests wait for 0). */
  get active(): number {
    return this.running.size;
  }

  private async loop(key: string): Promise<void> {
    for (;;) {
      this.runs += 1;
      try {
        await this.work(key);
      } catch (err) {
        this.onError(err);
      }
      if (!this.running.get(key)) break;
      this.running.set(key, false);
    }
    this.running.delete(key);
  }
}
