/** Runs the service's own entry points (worker.ts, api/server.ts) as child processes: used by the e2e tests and the benchmark. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface Service {
  readonly child: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Runs `script` (relative to the project) under tsx, or with plain node when it is compiled
 * JavaScript (dist/*.js); `nodeArgs` go to node itself (e.g. --cpu-prof).
 */
export function runService(
  script: string,
  env: Record<string, string>,
  args: string[] = [],
  nodeArgs: string[] = [],
): Service {
  const loader = script.endsWith('.js') ? [] : ['--import', 'tsx'];
  const child = spawn(process.execPath, [...nodeArgs, ...loader, path.join(ROOT, script), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    child,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * undefined once `url` answers 2xx; otherwise what it answered (or that it does not answer
 * yet). `timeoutMs`: give up on one slow answer (none by default: a readiness endpoint may take
 * its own probes' time to answer, e.g. /readyz while Temporal is unreachable).
 */
export async function httpNotReady(url: string, method = 'GET', timeoutMs?: number): Promise<string | undefined> {
  const what = `${method} ${new URL(url).pathname}`;
  try {
    const res = await fetch(url, { method, ...(timeoutMs ? { signal: AbortSignal.timeout(timeoutMs) } : {}) });
    const body = await res.text();
    return res.ok ? undefined : `${what} answers ${res.status} ${body.slice(0, 200)}`;
  } catch {
    return `${what} not answering yet`;
  }
}

/** Waits until `url` answers 200. */
export async function waitForHttp(url: string, timeoutMs = 60_000, method = 'GET'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await httpNotReady(url, method);
    if (last === undefined) return;
    if (Date.now() > deadline) throw new Error(`${url} not ready after ${timeoutMs} ms (last: ${last})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** util-linux's setpriv, to give a child a parent-death signal; absent off Linux. */
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((file) => process.platform === 'linux' && existsSync(file));

/**
 * Spawns `command` in its own process group. `parentDeathSignal`: the kernel sends it SIGTERM
 * when this process dies (Linux with setpriv only) — for a program that cannot watch for
 * that itself, like the Temporal CLI; our own children use --exit-with-parent.
 */
export function spawnSupervised(
  command: string,
  args: readonly string[],
  options: Parameters<typeof spawn>[2] = {},
  parentDeathSignal = false,
): ChildProcess {
  const [file, argv] =
    parentDeathSignal && SETPRIV ? [SETPRIV, ['--pdeathsig', 'TERM', '--', command, ...args]] : [command, [...args]];
  return spawn(file, argv, { ...options, detached: true });
}

/** Sends `signal` to the child's process group (it leads one when supervised), else to it. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}
