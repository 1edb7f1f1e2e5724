/**
 * Processes that `npm start` runs (the API and the worker, started with --exit-with-parent)
 * must not outlive it: if it dies without stopping them (SIGKILL, a crash), the kernel hands
 * them to another parent, and they notice and shut down as on SIGTERM (the API drains, the
 * worker lets its activities finish). Run on their own, without the flag, nothing changes
 * (`nohup`, a container's init, systemd keep them as before).
 */
export const EXIT_WITH_PARENT = '--exit-with-parent';

export function exitWithParent(
  onGone: (parentPid: number) => void = () => process.kill(process.pid, 'SIGTERM'),
  argv: readonly string[] = process.argv,
  intervalMs = 500,
): void {
  if (!argv.includes(EXIT_WITH_PARENT)) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onGone(parent);
  }, intervalMs);
  // Never the reason the process stays up.
  timer.unref();
}
