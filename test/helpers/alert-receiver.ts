/** A local HTTP receiver for the outbound alert webhook (127.0.0.1, a free port), for the suites that check what is pushed. */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../platform/webhook-signature';

export interface ReceivedAlert<T> {
  readonly id: string;
  readonly body: T;
  /** The X-Signature checked against `secret`. */
  readonly verified: boolean;
}

/** Registers beforeAll/afterAll for a receiver; `url` is filled in once it listens. */
export function useAlertReceiver<T = Record<string, unknown>>(
  secret: string,
): { url: string; received: ReceivedAlert<T>[] } {
  const receiver = { url: '', received: [] as ReceivedAlert<T>[] };
  let server: http.Server;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c) => (raw += c));
      req.on('end', () => {
        const headers = {
          signature: req.headers['x-signature'] as string,
          timestamp: req.headers['x-signature-timestamp'] as string,
        };
        const verified = verifySignature(secret, 300, Math.floor(Date.now() / 1000), headers, raw).ok;
        receiver.received.push({ id: req.headers['x-alert-id'] as string, body: JSON.parse(raw) as T, verified });
        res.writeHead(204).end();
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/alerts`;
  });
  afterAll(() => new Promise((r) => server.close(r)));
  return receiver;
}
