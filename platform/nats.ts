/**
 * NATS JetStream plumbing (EVENTS_NATS_URL): a connection that reconnects on its own, the
 * stream created or brought in line at connect (subjects, age limit, duplicate window), and a
 * publish that resolves only on the stream's PubAck, with a Nats-Msg-Id the stream dedupes on.
 * Knows no table and no event: use-cases/publish-events.ts decides what to send.
 */
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';

export interface JetStreamOptions {
  /** nats://host:port (several, comma-separated, for a cluster). */
  readonly url: string;
  /** The client's name in the server's monitoring. */
  readonly name: string;
  readonly stream: string;
  readonly subjects: readonly string[];
  /** Messages older than this are dropped by the stream (0: kept until the size limits). */
  readonly maxAgeSeconds: number;
  /** A Nats-Msg-Id seen again within this window is acknowledged as a duplicate and not stored twice. */
  readonly duplicateWindowSeconds: number;
  /** How long a publish waits for its PubAck. */
  readonly publishTimeoutMs: number;
  /** How long one connect attempt may take (the caller retries). */
  readonly connectTimeoutMs?: number;
}

export interface PublishAck {
  readonly seq: number;
  /** The stream already had this Nats-Msg-Id (within its duplicate window): not stored again. */
  readonly duplicate: boolean;
}

/** The stream's last message: what was published last, whoever published it. */
export interface LastMessage {
  readonly msgId: string | undefined;
  readonly data: Uint8Array;
}

export interface JetStreamLink {
  publish(subject: string, payload: Uint8Array, msgId: string): Promise<PublishAck>;
  /** The stream's last message, or undefined when it is empty. */
  lastMessage(): Promise<LastMessage | undefined>;
  /** True while the connection is up (false while it reconnects). */
  connected(): boolean;
  close(): Promise<void>;
}

type NatsConnection = Awaited<ReturnType<typeof connect>>;

const NANOS_PER_SECOND = 1_000_000_000;

/** Creates the stream, or updates the settings this service owns on an existing one. */
async function ensureStream(jsm: JetStreamManager, options: JetStreamOptions): Promise<void> {
  const wanted = {
    subjects: [...options.subjects],
    max_age: options.maxAgeSeconds * NANOS_PER_SECOND,
    duplicate_window: options.duplicateWindowSeconds * NANOS_PER_SECOND,
  };
  const existing = await jsm.streams.info(options.stream).catch(() => undefined);
  if (existing === undefined) {
    await jsm.streams.add({ name: options.stream, ...wanted });
  } else {
    await jsm.streams.update(options.stream, { ...existing.config, ...wanted });
  }
}

/**
 * Connects once (throws when the server cannot be reached: the caller retries), ensures the
 * stream, and returns the link. Once connected, the client reconnects for ever on its own;
 * publishes while it is away fail (or time out) and are retried by the caller.
 */
export async function openJetStream(options: JetStreamOptions): Promise<JetStreamLink> {
  const nc: NatsConnection = await connect({
    servers: options.url.split(',').map((s) => s.trim()),
    name: options.name,
    timeout: options.connectTimeoutMs ?? 2_000,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    pingInterval: 10_000,
  });
  try {
    const jsm = await jetstreamManager(nc, { timeout: options.publishTimeoutMs });
    await ensureStream(jsm, options);
    const js: JetStreamClient = jetstream(nc, { timeout: options.publishTimeoutMs });
    let isConnected = true;
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === 'disconnect') isConnected = false;
        else if (s.type === 'reconnect') isConnected = true;
      }
    })();
    return {
      async publish(subject, payload, msgId) {
        const ack = await js.publish(subject, payload, { msgID: msgId, timeout: options.publishTimeoutMs });
        return { seq: ack.seq, duplicate: ack.duplicate };
      },
      async lastMessage() {
        const info = await jsm.streams.info(options.stream);
        if (info.state.messages === 0) return undefined;
        const msg = await jsm.streams.getMessage(options.stream, { seq: info.state.last_seq });
        if (msg === null) return undefined;
        return { msgId: msg.header?.get('Nats-Msg-Id') || undefined, data: msg.data };
      },
      connected: () => isConnected && !nc.isClosed(),
      close: () => nc.close(),
    };
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw err;
  }
}
