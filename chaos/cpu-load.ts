/**
 * A bounded CPU load beside the stack: busy-loop node processes that compete with the worker
 * (and the APIs) for the machine's cores, the way a busy host starved the worker when the lost
 * payment of issue 16 showed. Each burner ends by itself after `maxMs`, whatever happens to
 * the suite; `stop()` ends them sooner, by their pid only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface CpuLoad {
  readonly burners: number;
  /** Ends every burner and resolves once they have exited. */
  stop(): Promise<void>;
}

/** Two burners per core: each core runs the worker about a third of the time or less. */
export const BURNERS_PER_CORE = 2;

export function startCpuLoad(maxMs: number, burners = BURNERS_PER_CORE * availableParallelism()): CpuLoad {
  // The bound is inside each child: a suite that dies leaves no burner running past it.
  const loop = `const end = Date.now() + ${Math.ceil(maxMs)}; while (Date.now() < end) { for (let i = 0; i < 1e6; i += 1); }`;
  const children: ChildProcess[] = Array.from({ length: burners }, () =>
    spawn(process.execPath, ['-e', loop], { stdio: 'ignore' }),
  );
  const exited = children.map(
    (c) =>
      new Promise<void>((resolve) =>
        c.exitCode !== null || c.signalCode !== null ? resolve() : c.once('exit', () => resolve()),
      ),
  );
  return {
    burners,
    async stop() {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await Promise.all(exited);
    },
  };
}
