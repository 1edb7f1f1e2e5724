/**
 * 13. Events through a sale with Redis, NATS and a subscriber failing: Redis and NATS are
 * killed (SIGKILL) mid-sale and restarted (NATS with its store), while a durable JetStream
 * consumer that "crashes" now and then — before it applied a message, or after it applied and
 * before it acked — reads the stream. At the end every event committed during the scenario
 * reached the subscriber (by id, with the stored envelope), none that was not committed did,
 * the stream holds each id once in position order, and the sale SKU's stock.changed versions
 * chain up to the level's version.
 *
 * Hook: `extraSubscribers` — further channels' receivers (the webhook channel) are judged
 * the same way; each starts before the sale and is told the feed head at the start.
 */
import { connect } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { CloudEvent } from '../../data/events';
import { eventually } from '../../test/helpers/app';
import { sleep } from '../client';
import { closeSale, saleWithFault } from '../sale';
import type { Scenario } from '../scenario';
import type { Stack } from '../stack';

const STREAM = 'STOCKHOLD_EVENTS';

/** A consumer of one channel, as the scenario judges it. */
export interface EventSubscriber {
  readonly name: string;
  /** Every event id it applied, with the envelope of its first delivery. */
  received(): ReadonlyMap<string, CloudEvent>;
  /** Deliveries of an id it already had (redeliveries are allowed: consumers dedupe on id). */
  redeliveries(): number;
  stop(): Promise<void>;
}

/** Further subscribers to judge (the webhook channel registers its receiver here). */
export const extraSubscribers: Array<(stack: Stack, headAtStart: bigint) => Promise<EventSubscriber>> = [];

/**
 * A durable pull consumer that fails on purpose: every 11th delivery is dropped before it is
 * applied, every 13th is applied and not acked (a crash between the two), every 29th makes it
 * pause as a restarting process would. Unacked messages come back after ack_wait (1 s).
 */
async function failingNatsSubscriber(stack: Stack, startSeq: number): Promise<EventSubscriber> {
  const nc = await connect({ servers: stack.nats.url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  const jsm = await jetstreamManager(nc);
  const durable = `chaos-subscriber-${Date.now()}`;
  await jsm.consumers.add(STREAM, {
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    ack_wait: 1_000_000_000,
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: startSeq,
  });
  const consumer = await jetstream(nc).consumers.get(STREAM, durable);
  const received = new Map<string, CloudEvent>();
  let again = 0;
  let running = true;
  const loop = (async () => {
    for (let i = 1; running; i++) {
      const m = await consumer.next({ expires: 1_000 }).catch(() => null);
      if (m === null) {
        await sleep(100);
        continue;
      }
      if (i % 11 === 0) continue; // crashed before applying: redelivered
      const event = m.json<CloudEvent>();
      if (received.has(event.id)) again++;
      else received.set(event.id, event);
      if (i % 13 === 0) continue; // applied, crashed before the ack: redelivered, deduped
      if (i % 29 === 0) await sleep(300);
      m.ack();
    }
  })();
  return {
    name: 'nats',
    received: () => received,
    redeliveries: () => again,
    async stop() {
      running = false;
      await loop;
      await nc.close();
    },
  };
}

/** The highest event position so far, in the stack's store. */
const head = (stack: Stack) => stack.probe.eventHead();

export const eventsDelivered: Scenario = {
  name: '13 events: Redis, NATS and a subscriber failing',
  async run(stack, size) {
    const sku = 'CHAOS-EVENTS';
    // The worker creates the stream at its first connect.
    const jnc = await connect({ servers: stack.nats.url });
    const jsm = await jetstreamManager(jnc);
    const info = await eventually(
      () => jsm.streams.info(STREAM).catch(() => undefined),
      (i) => i !== undefined,
      30_000,
    );
    // Stream messages after this one, and events after this position, are the scenario's.
    const startSeq = info!.state.last_seq + 1;
    const headAtStart = await head(stack);
    const subscribers = [
      await failingNatsSubscriber(stack, startSeq),
      ...(await Promise.all(extraSubscribers.map((s) => s(stack, headAtStart)))),
    ];

    const sale = await saleWithFault(stack, {
      prefix: 'events',
      sku,
      orders: size.orders,
      fault: async () => {
        await Promise.all([stack.redis.kill(), stack.nats.kill()]);
        await sleep(3_000);
        await Promise.all([stack.redis.start(), stack.nats.start()]);
      },
    });
    const row = await closeSale(stack, this.name, sale);

    // Every event positioned since the start, as stored.
    const problems = [...row.problems];
    const finalHead = await head(stack);
    const stored = await stack.probe.positionedEvents(headAtStart, finalHead);
    const expected = new Map(stored.map((e) => [e.id, e]));
    for (const s of subscribers) {
      const got = await eventually(
        async () => s.received(),
        (r) => [...expected.keys()].every((id) => r.has(id)),
        60_000,
      ).catch(() => s.received());
      await s.stop();
      const missing = [...expected.keys()].filter((id) => !got.has(id));
      const ours = [...got.values()].filter((e) => BigInt(e.sequence) > headAtStart);
      const invented = ours.filter((e) => !expected.has(e.id) && BigInt(e.sequence) <= finalHead);
      const altered = ours.filter(
        (e) => expected.has(e.id) && JSON.stringify(e) !== JSON.stringify(expected.get(e.id)),
      );
      if (missing.length > 0)
        problems.push(`${s.name}: ${missing.length} committed events never delivered (first ${missing[0]})`);
      if (invented.length > 0) problems.push(`${s.name}: ${invented.length} events delivered that never committed`);
      if (altered.length > 0) problems.push(`${s.name}: ${altered.length} events differ from the stored envelope`);
      // The sale SKU's versions chain to the level's version, from what the subscriber got.
      const changes = ours
        .filter((e) => e.type === 'stock.changed' && e.data.sku === sku)
        .map((e) => e.data as { fromVersion: number; toVersion: number })
        .sort((a, b) => a.fromVersion - b.fromVersion);
      const version = await stack.probe.levelVersion(sku);
      const breaks = changes.filter((c, i) => i > 0 && c.fromVersion !== changes[i - 1].toVersion).length;
      if (breaks > 0 || changes.at(-1)?.toVersion !== version) {
        problems.push(
          `${s.name}: ${sku} versions do not chain to ${String(version)} (${breaks} breaks, last ${String(changes.at(-1)?.toVersion)})`,
        );
      }
    }

    // The stream: each id once, in position order.
    const last = (await jsm.streams.info(STREAM)).state.last_seq;
    const ids = new Set<string>();
    let previous = 0n;
    let doubled = 0;
    let unordered = 0;
    for (let seq = startSeq; seq <= last; seq++) {
      const m = await jsm.streams.getMessage(STREAM, { seq }).catch(() => null);
      if (!m) continue;
      const e = m.json<CloudEvent>();
      if (ids.has(e.id)) doubled++;
      ids.add(e.id);
      if (BigInt(e.sequence) <= previous) unordered++;
      previous = BigInt(e.sequence);
    }
    await jnc.close();
    if (doubled > 0) problems.push(`stream holds ${doubled} ids twice`);
    if (unordered > 0) problems.push(`stream out of position order ${unordered} times`);
    const redelivered = subscribers.map((s) => `${s.name} ${s.redeliveries()} redeliveries deduped`).join(', ');
    // The worker's own count of failed publish passes: the fault must have reached the publisher.
    const metrics = await fetch(stack.workerMetrics).then((r) => r.text());
    const failed = /^stockhold_event_publishes_total\{[^}]*outcome="failed"[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? '0';
    return {
      ...row,
      problems,
      notes: `${expected.size} events, ${last - startSeq + 1} stream messages; ${failed} publish passes failed while NATS was down; ${redelivered}`,
    };
  },
};
