/**
 * Event lag to a subscriber (issue 18): a loopback HTTP receiver in the bench process,
 * subscribed through `POST /admin/event-subscriptions` (every type) just before the flash sale,
 * so the worker's webhook dispatcher (use-cases/webhook-dispatcher.ts) pushes it every event the
 * sale commits while the sale and its sagas run. Each delivery's Standard Webhooks signature is
 * verified with the npm `standardwebhooks` package, as docs/events.md tells a consumer to; its
 * lag is the receipt time − the event's `time` (when its transaction first touched the subject;
 * the commit follows within the transaction). Once the sale's sagas have closed, the events the
 * feed (`GET /events`) holds after the subscription's first cursor are what it should have
 * received: the bench waits for them, a bounded time, then counts.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { percentiles, round, wallNow } from './load';
import type { BenchStack } from './stack';

interface Received {
  readonly lagMs: number;
  readonly type: string;
}

export interface EventLag {
  /** Events positioned after the subscription's creation, up to the feed's head once the sale's sagas closed. */
  readonly eventsExpected: number;
  /** Of those, how many the receiver got (each id once). */
  readonly eventsDelivered: number;
  /** Receipt − the event's `time`, over the expected events received. */
  readonly lagMs: ReturnType<typeof percentiles>;
  /** Deliveries whose signature `standardwebhooks` refused (or that carried none). */
  readonly badSignatures: number;
  /** Deliveries of an id already received (at-least-once: a retry). */
  readonly duplicates: number;
  /** Deliveries the bench waited for after the sale closed, seconds. */
  readonly waitedSeconds: number;
  /** Expected events by type, and how many of each arrived. */
  readonly byType: Record<string, { expected: number; delivered: number }>;
}

export class EventSubscriber {
  private readonly received = new Map<string, Received>();
  private badSignatures = 0;
  private duplicates = 0;
  private verifier?: Webhook;
  private subscriptionId?: string;
  private startCursor = '0';

  private constructor(
    private readonly stack: BenchStack,
    private readonly server: Server,
  ) {}

  /** Starts the receiver and subscribes it to every event type. */
  static async start(stack: BenchStack): Promise<EventSubscriber> {
    let self: EventSubscriber | undefined;
    const server = createServer((req, res) => {
      const at = wallNow();
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        self?.receive(Buffer.concat(chunks).toString('utf8'), req.headers, at);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new EventSubscriber(stack, server);
    await self.subscribe(`http://127.0.0.1:${(server.address() as AddressInfo).port}/events`);
    return self;
  }

  private async subscribe(url: string): Promise<void> {
    const res = await fetch(`${this.stack.base}/admin/event-subscriptions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...this.stack.auth },
      body: JSON.stringify({ url, description: 'bench: event lag to a subscriber' }),
    });
    const body = (await res.json()) as { id: string; secret: string; cursor: string };
    if (res.status !== 201) throw new Error(`event subscription not created: ${res.status} ${JSON.stringify(body)}`);
    this.subscriptionId = body.id;
    this.startCursor = body.cursor;
    this.verifier = new Webhook(body.secret);
  }

  private receive(body: string, headers: IncomingHttpHeaders, at: number): void {
    try {
      this.verifier!.verify(body, headers as Record<string, string>);
    } catch {
      this.badSignatures += 1;
      return;
    }
    const event = JSON.parse(body) as { id: string; type: string; time: string };
    if (this.received.has(event.id)) {
      this.duplicates += 1;
      return;
    }
    this.received.set(event.id, { lagMs: at - Date.parse(event.time), type: event.type });
  }

  /** Every event the feed holds after the subscription's first cursor, up to its head now. */
  private async expected(): Promise<{ id: string; type: string }[]> {
    const out: { id: string; type: string }[] = [];
    for (let cursor = this.startCursor; ;) {
      const res = await fetch(`${this.stack.base}/events?cursor=${cursor}&limit=1000`, { headers: this.stack.auth });
      if (res.status !== 200) throw new Error(`GET /events answered ${res.status}: ${await res.text()}`);
      const page = (await res.json()) as { data: { id: string; type: string }[]; hasMore: boolean; nextCursor: string };
      out.push(...page.data.map((e) => ({ id: e.id, type: e.type })));
      if (!page.hasMore) return out;
      cursor = page.nextCursor;
    }
  }

  /**
   * Waits (at most `limitSeconds`) until every event of the feed up to its head now has been
   * received, deletes the subscription, stops the receiver and counts.
   */
  async finish(limitSeconds: number, say: (line: string) => void): Promise<EventLag> {
    const expected = await this.expected();
    const started = Date.now();
    let lastSaid = 0;
    const missing = () => expected.filter((e) => !this.received.has(e.id)).length;
    while (missing() > 0 && Date.now() - started < limitSeconds * 1000) {
      if (Date.now() - lastSaid >= 2000) {
        say(`event subscriber: ${expected.length - missing()}/${expected.length} events received`);
        lastSaid = Date.now();
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const waitedSeconds = round((Date.now() - started) / 1000, 1);
    await fetch(`${this.stack.base}/admin/event-subscriptions/${this.subscriptionId}`, {
      method: 'DELETE',
      headers: this.stack.auth,
    });
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections(); // the dispatcher keeps its connection alive
    await closed;
    const byType: Record<string, { expected: number; delivered: number }> = {};
    const lags: number[] = [];
    for (const e of expected) {
      const got = this.received.get(e.id);
      const t = (byType[e.type] ??= { expected: 0, delivered: 0 });
      t.expected += 1;
      if (got) {
        t.delivered += 1;
        lags.push(got.lagMs);
      }
    }
    return {
      eventsExpected: expected.length,
      eventsDelivered: lags.length,
      lagMs: percentiles(lags),
      badSignatures: this.badSignatures,
      duplicates: this.duplicates,
      waitedSeconds,
      byType,
    };
  }
}
