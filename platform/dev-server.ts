/**
 * Starts the Temporal CLI's dev server (SQLite file, embedded UI) as a child process, with
 * the service's search attributes registered, and waits until it answers. Used by
 * `npm start`, the end-to-end tests and the benchmark; never in production.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { SearchAttributeKey } from './temporal';
import { signalGroup, spawnSupervised } from './processes';

export const TOOLS_BIN = path.resolve(__dirname, '..', '.tools', 'venv', 'bin');
export const TEMPORAL_CLI = path.join(TOOLS_BIN, 'temporal');
export const TEMPORAL_TEST_SERVER = path.join(TOOLS_BIN, 'temporal-test-server');
/** The API fuzzer the test suite runs over the OpenAPI document (scripts/bootstrap.sh installs it). */
export const SCHEMATHESIS = path.join(TOOLS_BIN, 'st');

const cliType: Record<string, string> = {
  KEYWORD: 'Keyword',
  KEYWORD_LIST: 'KeywordList',
  DATETIME: 'Datetime',
  TEXT: 'Text',
  INT: 'Int',
  BOOL: 'Bool',
  DOUBLE: 'Double',
};

export interface DevServerOptions {
  readonly port: number;
  /** Omit for a headless server. */
  readonly uiPort?: number;
  /** SQLite file; omit for an in-memory server. */
  readonly dbFile?: string;
  readonly namespace?: string;
  /** The search attributes to create (the caller's workflows': workflows/search-attributes.ts). */
  readonly searchAttributes: readonly SearchAttributeKey[];
  /** Where the server's output goes; default: discarded. */
  readonly log?: (line: string) => void;
  /**
   * `npm start`: the server runs in a process group of its own (a terminal's Ctrl-C reaches
   * only the supervisor, which stops it in order) and, on Linux, gets SIGTERM from the kernel
   * if the process that started it dies without stopping it (`setpriv --pdeathsig`).
   */
  readonly supervised?: boolean;
  /** Called as soon as the process exists, before it serves (so a supervisor can stop it). */
  readonly spawned?: (child: ChildProcess) => void;
}

export interface DevServer {
  readonly address: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(options.port), '--log-level', 'error'];
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.dbFile) {
    mkdirSync(path.dirname(options.dbFile), { recursive: true });
    args.push('--db-filename', options.dbFile);
  }
  if (options.namespace && options.namespace !== 'default') args.push('--namespace', options.namespace);
  for (const key of options.searchAttributes) args.push('--search-attribute', `${key.name}=${cliType[key.type]}`);

  const child = options.supervised
    ? spawnSupervised(TEMPORAL_CLI, args, { stdio: ['ignore', 'pipe', 'pipe'] }, true)
    : spawn(TEMPORAL_CLI, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  options.spawned?.(child);
  const forward = (chunk: Buffer) => options.log?.(chunk.toString().trimEnd());
  child.stdout?.on('data', forward);
  child.stderr?.on('data', forward);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const address = `127.0.0.1:${options.port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      // The group when it leads one (supervised), else the process itself (signalGroup falls back).
      signalGroup(child, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    await waitUntilServing(address, exited);
  } catch (err) {
    await stop();
    throw err;
  }
  return { address, process: child, stop };
}

/** Polls the frontend until it answers, or fails if the process exits first. */
export async function waitUntilServing(
  address: string,
  exited?: Promise<number | null>,
  timeoutMs = 60_000,
): Promise<void> {
  let dead: number | null | undefined;
  void exited?.then((code) => (dead = code ?? -1));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (dead !== undefined) throw new Error(`temporal dev server exited with ${dead} before serving on ${address}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      if (Date.now() > deadline)
        throw new Error(`temporal at ${address} not serving after ${timeoutMs} ms: ${(err as Error).message}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
