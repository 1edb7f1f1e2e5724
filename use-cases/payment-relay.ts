/**
 * Delivering stored payments after the webhook answered. The webhook's transaction left a
 * `payment_deliveries` row beside the payment; the API attempts the delivery right after the
 * commit, a bounded number at a time (`PaymentDeliverer`), and the worker's relay
 * (`startPaymentRelay`) attempts every row that is due: the API's attempt failed or never ran
 * (Temporal unreachable, the process died), an unknown order's grace is running, or a
 * delivered payment is due for its re-check and still PENDING — its saga still running has it
 * and the row waits; a saga that ended without settling it gets it again,
 * which reaches the late-payment settlement if the saga ended without settling it.
 */
import { attemptDelivery, type AttemptSettings, type DeliveryAttempt, type DeliveryTarget } from './deliver-payment';
import { DeferringQueue } from '../platform/deferring-queue';
import { leaseDueDeliveries, type LeaseOptions, type PendingDelivery } from '../data/payments/payment-deliveries';

/**
 * The API's deliverer: `deliver(d)` returns at once; at most `concurrency` attempts are in
 * flight, the rest wait in memory (lost if the process dies — the relay has their rows). A
 * failed attempt is left to the relay. While `busy()` says the API is answering a burst, the
 * attempts wait (the answers come first; a stored payment loses nothing by waiting), for at most
 * `maxDeferMs`: one still waiting then while the API is busy is the relay's.
 */
export class PaymentDeliverer extends DeferringQueue<PendingDelivery> {
  private closed = false;

  constructor(
    private readonly target: DeliveryTarget,
    private readonly settings: AttemptSettings,
    concurrency: number,
    private readonly onDone: (attempt: DeliveryAttempt | 'FAILED', err?: unknown) => void = () => undefined,
  ) {
    super(concurrency);
  }

  deliver(d: PendingDelivery): void {
    if (this.closed) return; // its row is the relay's
    this.push(d);
  }

  /**
   * Shutdown: queued attempts are dropped (their rows are the relay's); resolves once the
   * attempts in flight have ended, or after `timeoutMs`.
   */
  async close(timeoutMs: number): Promise<void> {
    this.closed = true;
    await this.drain(timeoutMs);
  }

  protected run(d: PendingDelivery): Promise<void> {
    return attemptDelivery(this.target, this.settings, d).then(
      (attempt) => this.onDone(attempt),
      (err: unknown) => this.onDone('FAILED', err),
    );
  }
}

/** The relay's settings. */
export interface PaymentRelayOptions extends LeaseOptions, AttemptSettings {
  readonly intervalMs: number;
}

/** What became of one relay attempt (`err` with FAILED). */
export type AttemptReport = (d: PendingDelivery, attempt: DeliveryAttempt | 'FAILED', err?: unknown) => void;

/**
 * One relay pass: leases the due rows (SKIP LOCKED: several workers share them) and attempts
 * each; a failure is reported and retried after the backoff the lease set, the others go on.
 * Returns how many rows it took.
 */
export async function relayPaymentDeliveries(
  target: DeliveryTarget,
  options: PaymentRelayOptions,
  report: AttemptReport,
): Promise<number> {
  const due = await leaseDueDeliveries(target.db, options);
  await Promise.all(
    due.map((d) =>
      attemptDelivery(target, options, d).then(
        (attempt) => report(d, attempt),
        (err: unknown) => report(d, 'FAILED', err),
      ),
    ),
  );
  return due.length;
}

/** Runs the relay until stopped. */
export function startPaymentRelay(
  target: DeliveryTarget,
  options: PaymentRelayOptions,
  log: { passFailed(err: unknown): void; attempted: AttemptReport },
): { stop(): Promise<void> } {
  let stopped = false;
  let wake: (() => void) | undefined;
  const loop = (async () => {
    while (!stopped) {
      const n = await relayPaymentDeliveries(target, options, log.attempted).catch((err: unknown) => {
        log.passFailed(err);
        return 0;
      });
      if (n < options.batch && !stopped) {
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, options.intervalMs);
        });
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await loop;
    },
  };
}
