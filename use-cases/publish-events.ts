/**
 * The NATS JetStream channel (EVENTS_NATS_URL; docs/events.md "NATS JetStream"): the worker
 * publishes positioned events, in position order, each as its stored envelope, to
 * `<prefix>.<type>.<warehouse>.<sku>` with Nats-Msg-Id = the event id, one at a time: the next
 * is sent only after the stream acknowledged the previous one (PubAck), so the stream holds
 * them in position order. The channel's cursor (event_channel_cursors, channel `nats`) moves
 * after the acks; a crash between an ack and the cursor's update sends the same events again,
 * and the stream's duplicate window drops them. At connect, the stream's last message also
 * tells what was published: when it is the event at a position past the cursor, the cursor
 * moves there first, so a restart after longer than the window sends nothing twice either.
 *
 * NATS down: the pass fails, the cursor stays, events wait in the outbox (nothing is lost,
 * readiness is not affected: the request path never talks to NATS), and the loop retries with
 * a backoff; publishing resumes from the cursor.
 */
import { advanceCursor, channelCursor, eventBytes, eventsAfter, type ChannelEvent } from '../data/events/channels';
import type { Db } from '../data/db';
import type { JetStreamLink } from '../platform/nats';
import { PollingLoop } from '../platform/polling-loop';

/** The channel's name in event_channel_cursors and in the metrics. */
export const NATS_CHANNEL = 'nats';

/** Outcomes counted by stockhold_event_publishes_total: per event published or duplicate, per pass failed (connect, publish or cursor). */
export type PublishOutcome = 'published' | 'duplicate' | 'failed';

/**
 * One subject token: letters, digits, `-` and `_` as they are; every other character (`.`,
 * `*`, `>`, spaces, `%`, anything non-ASCII) as `%XX` of its UTF-8 bytes. A missing value
 * (order and payment events name no single SKU or warehouse) is `_`; a value that is `_`
 * itself is written `%5F`.
 */
export function subjectToken(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '_';
  if (value === '_') return '%5F';
  return Array.from(Buffer.from(value, 'utf8'))
    .map((b) =>
      /[A-Za-z0-9_-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

/** `<prefix>.<type>.<warehouse>.<sku>`; the type (`stock.changed`) is two tokens and needs no escaping. */
export function eventSubject(prefix: string, e: Pick<ChannelEvent, 'type' | 'warehouseCode' | 'sku'>): string {
  return `${prefix}.${e.type}.${subjectToken(e.warehouseCode)}.${subjectToken(e.sku)}`;
}

export interface NatsChannelOptions {
  /** Opens the link (platform/nats.ts openJetStream); called again after a failed attempt. */
  readonly open: () => Promise<JetStreamLink>;
  /** Subject prefix (EVENTS_NATS_SUBJECT_PREFIX, default `stockhold.events`). */
  readonly subjectPrefix: string;
  /** The pause between passes when caught up (EVENT_RELAY_INTERVAL_MS). */
  readonly intervalMs: number;
  /** Events per pass (and per cursor update). */
  readonly batch?: number;
  /** The longest pause between attempts while NATS is unreachable. */
  readonly maxBackoffMs?: number;
  /** At connect, move the cursor past the stream's last message when it is ours (default true). */
  readonly trustStreamTail?: boolean;
  readonly onPublish?: (outcome: PublishOutcome, count: number) => void;
  readonly log?: (message: string, fields: Record<string, unknown>) => void;
  /** Tests: runs after the acks of a pass, before the cursor moves (throwing there is a crash at that point). */
  readonly beforeCursorUpdate?: (lastAcked: bigint) => Promise<void> | void;
}

/** The publishing loop; `stop()` waits for the pass in progress and closes the connection. */
export class NatsEventChannel extends PollingLoop {
  private link?: JetStreamLink;

  constructor(
    private readonly db: Db,
    private readonly options: NatsChannelOptions,
  ) {
    super('NATS publish', options);
  }

  async stop(): Promise<void> {
    await super.stop();
    await this.link?.close().catch(() => undefined);
    this.link = undefined;
  }

  /** One pass: connects if needed, publishes up to a batch; true when the batch was full. Exposed for tests. */
  async pass(): Promise<boolean> {
    // The cursor row first: from the first pass on, retention waits for this channel, even
    // while NATS has never been reachable.
    await channelCursor(this.db, NATS_CHANNEL);
    const link = this.link ?? (await this.connect());
    const batch = this.options.batch ?? 500;
    const cursor = await channelCursor(this.db, NATS_CHANNEL);
    const events = await eventsAfter(this.db, cursor, batch);
    let lastAcked: bigint | undefined;
    let published = 0;
    let duplicates = 0;
    try {
      for (const e of events) {
        const ack = await link.publish(eventSubject(this.options.subjectPrefix, e), eventBytes(e.event), e.event.id);
        if (ack.duplicate) duplicates++;
        else published++;
        lastAcked = e.position;
      }
    } finally {
      if (published > 0) this.options.onPublish?.('published', published);
      if (duplicates > 0) this.options.onPublish?.('duplicate', duplicates);
      // What was acknowledged stays acknowledged, also when a later publish of the pass failed.
      if (lastAcked !== undefined) {
        await this.options.beforeCursorUpdate?.(lastAcked);
        await advanceCursor(this.db, NATS_CHANNEL, lastAcked);
      }
    }
    return events.length === batch;
  }

  private async connect(): Promise<JetStreamLink> {
    const link = await this.options.open();
    try {
      if (this.options.trustStreamTail ?? true) await this.catchUpWithStream(link);
    } catch (err) {
      await link.close().catch(() => undefined);
      throw err;
    }
    this.link = link;
    return link;
  }

  /**
   * The stream's last message was published by this channel when its id is the id of the
   * event at its sequence in our outbox: then everything up to it was acknowledged, and the
   * cursor may move there. Anything else (an empty stream, another writer, a database reset
   * since) leaves the cursor alone.
   */
  private async catchUpWithStream(link: JetStreamLink): Promise<void> {
    const last = await link.lastMessage();
    if (last?.msgId === undefined) return;
    let sequence: string | undefined;
    try {
      sequence = (JSON.parse(Buffer.from(last.data).toString('utf8')) as { sequence?: unknown }).sequence as
        string | undefined;
    } catch {
      return;
    }
    if (typeof sequence !== 'string' || !/^\d+$/.test(sequence)) return;
    const position = BigInt(sequence);
    const cursor = await channelCursor(this.db, NATS_CHANNEL);
    if (position <= cursor) return;
    const [ours] = await eventsAfter(this.db, position - 1n, 1);
    if (ours?.position !== position || ours.event.id !== last.msgId) return;
    await advanceCursor(this.db, NATS_CHANNEL, position);
    this.options.log?.('NATS stream already holds events past the cursor; cursor moved', {
      from: cursor.toString(),
      to: position.toString(),
    });
  }

  protected onRecovery(failures: number): void {
    this.options.log?.('NATS publishing resumed', { failedPasses: failures });
  }

  protected async onFailure(err: unknown, failures: number): Promise<void> {
    this.options.onPublish?.('failed', 1);
    // Log the first failure and then every 20th: NATS down for an hour is one story, not 10,000 lines.
    if (failures === 1 || failures % 20 === 0) {
      this.options.log?.('NATS publish pass failed; events wait in the outbox, retrying', {
        error: String(err),
        failedPasses: failures,
      });
    }
    // Disconnected: the client reconnects on its own and the next pass publishes through it.
    // Connected and still failing (the stream deleted, JetStream not ready after a restart):
    // open again, which creates or repairs the stream and re-reads its tail.
    const link = this.link;
    if (link?.connected()) {
      this.link = undefined;
      await link.close().catch(() => undefined);
    }
  }

  /** While NATS fails: a backoff from the interval, doubling, up to maxBackoffMs (5 s). */
  protected nextDelay(full: boolean, failures: number): number {
    if (failures === 0) return full ? 0 : this.options.intervalMs;
    return Math.min(this.options.intervalMs * 2 ** Math.min(failures, 10), this.options.maxBackoffMs ?? 5_000);
  }
}
