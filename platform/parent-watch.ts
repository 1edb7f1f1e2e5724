/**
 * Processes that `npm start` runs (the API and the worker, started with --exit-with-parent)
 * must not outlive it: if it dies without stopping them (SIGKILL, a crash), the kernel hands
 * them to another parent, and they notice and shut down as on SIGTERM (the API drains, the
 * worker lets its activities finish). Run on their own, without the flag, nothing changes
 * (`nohup`, a container's init, systemd keep them as before).
 */
export const EXIT_WITH_PARENT = '--exit-with-parent';

/** Whether this process was started with --exit-with-parent. */
export const startedToExitWithParent = (argv: readonly string[] = process.argv) => argv.includes(EXIT_WITH_PARENT);

/** Calls `onGone` (default: SIGTERM to this process) once this process's parent has gone. */
export function exitWithParent(onGone: (parentPid: number) => void = () => process.kill(process.pid, 'SIGTERM')): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone(parent);
  }, 500);
  // Never the reason the process stays up.
  timer.unref();
}
