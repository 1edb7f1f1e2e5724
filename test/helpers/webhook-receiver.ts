/**
 * A loopback receiver for event webhooks (127.0.0.1, a free port): each path answers from its
 * own script of replies (status, headers, a delay), the last one repeated, and records every
 * request it got with its raw body and headers.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  readonly status: number;
  readonly headers?: Record<string, string>;
  /** Answer only after this many ms (a slow receiver). */
  readonly delayMs?: number;
}

export interface Received {
  readonly path: string;
  readonly body: string;
  readonly headers: Record<string, string>;
  readonly at: number;
}

export interface WebhookReceiver {
  /** http://127.0.0.1:<port> */
  base: string;
  received: Received[];
  /** The replies of `path` from now on (the last one repeats; none: 204). */
  script(path: string, replies: Reply[]): void;
  on(path: string): Received[];
  reset(): void;
}

/** Registers beforeAll/afterAll for a receiver; `base` is filled in once it listens. */
export function useWebhookReceiver(): WebhookReceiver {
  const scripts = new Map<string, Reply[]>();
  const receiver: WebhookReceiver = {
    base: '',
    received: [],
    script: (path, replies) => void scripts.set(path, [...replies]),
    on: (path) => receiver.received.filter((r) => r.path === path),
    reset: () => {
      scripts.clear();
      receiver.received.length = 0;
    },
  };
  let server: http.Server;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const path = req.url ?? '/';
        receiver.received.push({ path, body: raw, headers: req.headers as Record<string, string>, at: Date.now() });
        const replies = scripts.get(path) ?? [];
        const reply = (replies.length > 1 ? replies.shift() : replies[0]) ?? { status: 204 };
        setTimeout(() => res.writeHead(reply.status, reply.headers).end(), reply.delayMs ?? 0);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    receiver.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return receiver;
}
