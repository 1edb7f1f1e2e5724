/**
 * The worker's webhook dispatcher: one loop per ACTIVE subscription, each on its own lease
 * and its own timer, so a slow or failing receiver only ever delays itself. A loop runs
 * steps (use-cases/event-webhooks.ts) back to back while there is work, sleeps while its
 * head-of-line retry is not due or nothing is new (at most `pollMs`, so a new event, a
 * replay or a re-enable is seen soon), and ends when its subscription is disabled, deleted
 * or leased by another worker. Every `pollMs` the list of subscriptions is read again.
 */
import { randomUUID } from 'node:crypto';
import { activeSubscriptionIds, leaseSubscription, releaseLease } from '../data/events';
import { deliverStep, type WebhookDeliveryDeps } from './event-webhooks';

export interface DispatcherOptions {
  /** How often idle loops look for new events, and the dispatcher for new subscriptions. */
  readonly pollMs: number;
  /** A loop's lease; renewed at every step (longer than a send's timeout). */
  readonly leaseMs: number;
  readonly owner?: string;
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
}

export class WebhookDispatcher {
  private readonly owner: string;
  private readonly loops = new Map<string, Promise<void>>();
  private readonly wakers = new Set<() => void>();
  private readonly stopping = new AbortController();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    private readonly deps: WebhookDeliveryDeps,
    private readonly options: DispatcherOptions,
  ) {
    this.owner = options.owner ?? `dispatcher-${randomUUID()}`;
  }

  start(): this {
    void this.refresh();
    return this;
  }

  /** Stops every loop after its send in progress (which ends by its timeout at the latest) and gives the leases back. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.stopping.abort();
    clearTimeout(this.timer);
    for (const wake of this.wakers) wake();
    await Promise.all(this.loops.values());
  }

  private async refresh(): Promise<void> {
    if (this.stopped) return;
    try {
      for (const id of await activeSubscriptionIds(this.deps.db)) {
        if (!this.loops.has(id))
          this.loops.set(
            id,
            this.loop(id).finally(() => this.loops.delete(id)),
          );
      }
    } catch (err) {
      this.options.log?.('webhook dispatcher could not list subscriptions; will retry', { error: String(err) });
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.refresh(), this.options.pollMs);
  }

  private async loop(id: string): Promise<void> {
    try {
      while (!this.stopped) {
        const sub = await leaseSubscription(this.deps.db, id, this.owner, this.options.leaseMs);
        if (!sub) return;
        const result = await deliverStep(this.deps, sub, this.stopping.signal);
        if ('stop' in result) return;
        if (result.waitMs > 0) await this.sleep(Math.min(result.waitMs, this.options.pollMs));
      }
    } catch (err) {
      this.options.log?.('webhook delivery step failed; the loop starts again', {
        subscriptionId: id,
        error: String(err),
      });
    } finally {
      await releaseLease(this.deps.db, id, this.owner).catch(() => undefined);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(t);
        this.wakers.delete(wake);
        resolve();
      };
      const t = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }
}
