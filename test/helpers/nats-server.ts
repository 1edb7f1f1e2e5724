/**
 * A private nats-server with JetStream on a spare 127.0.0.1 port and its own store directory,
 * for tests and chaos scenarios that stop NATS: never the machine's own NATS (4222), never
 * `npm start`'s (4223). kill() and start() keep the store, as a crash and a restart do.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startNatsServer, type NatsServer } from '../../platform/nats-server';
import { freePort } from '../../platform/processes';

export interface OwnNats {
  readonly port: number;
  readonly url: string;
  /** SIGKILL: the server dies without a goodbye. Its store stays: start() brings the stream back. */
  kill(): Promise<void>;
  start(): Promise<void>;
  /** Kills the server and removes its store. */
  dispose(): Promise<void>;
}

export async function startOwnNats(): Promise<OwnNats> {
  const port = await freePort();
  const storeDir = mkdtempSync(path.join(os.tmpdir(), 'stockhold-nats-'));
  let server: NatsServer | undefined;
  const start = async () => {
    server = await startNatsServer({ port, storeDir });
  };
  const kill = async () => {
    await server?.kill();
    server = undefined;
  };
  await start();
  return {
    port,
    url: `nats://127.0.0.1:${port}`,
    kill,
    start,
    dispose: async () => {
      await kill();
      rmSync(storeDir, { recursive: true, force: true });
    },
  };
}
