/**
 * Honest figures (issue 21 item 4): how busy the machine was before and during the run. The
 * load average and the machine's busy CPU over a few seconds before the stack starts, the
 * 1-minute load average sampled every second during the run, and the CPU that processes
 * outside the bench's own process tree used meanwhile
 * (PostgreSQL and Redis excepted: they serve the bench and whoever else shares them, and
 * /proc cannot tell the two apart). The report is `noisy` by a rule stated in
 * docs/testing.md (`noisyRule` below).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { round } from './load';

/** Clock ticks per second of /proc's utime and stime (`getconf CLK_TCK`; 100 on Linux as built). */
export const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** /proc/loadavg: the 1-, 5- and 15-minute load averages. */
export function loadAverage(): [number, number, number] {
  try {
    const [a, b, c] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
    return [a, b, c];
  } catch {
    const [a, b, c] = os.loadavg();
    return [a, b, c];
  }
}

/** Busy and total CPU time of the whole machine so far, in clock ticks (/proc/stat's first line). */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0); // idle + iowait
  return { busy: total - idle, total };
}

interface Proc {
  readonly ppid: number;
  readonly comm: string;
  readonly ticks: number;
}

function processes(): Map<number, Proc> {
  const out = new Map<number, Proc>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' ');
      out.set(Number(d), { ppid: Number(f[1]), comm, ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/** The bench process and everything it started (the API, worker, dev server, baselines). */
function ownTree(procs: Map<number, Proc>, root: number): Set<number> {
  const own = new Set([root]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, p] of procs)
      if (!own.has(pid) && own.has(p.ppid)) {
        own.add(pid);
        grew = true;
      }
  }
  return own;
}

/** Shared servers the bench uses but cannot separate from others' use of them. */
const SHARED = /^(postgres|redis-server)/;
/** The same with the service on MariaDB: its server is the bench's shared database there. */
const SHARED_MARIADB = /^(postgres|redis-server|mariadbd|mysqld)/;

/** Share of the machine's CPU (all cores = 1) busy over the next `ms`, everything included. */
export async function busyShare(ms: number): Promise<number> {
  const first = machineTicks();
  await new Promise((resolve) => setTimeout(resolve, ms));
  const end = machineTicks();
  const total = end.total - first.total;
  return total > 0 ? round((end.busy - first.busy) / total, 3) : 0;
}

/** What the machine did during the run. */
export interface MachineLoad {
  readonly loadAverageBefore: [number, number, number];
  /** Share of the machine's CPU busy in the seconds before the stack started (busyShare). */
  readonly busyBefore: number;
  /** The highest 1-minute load average sampled during the run (the bench's own load included). */
  readonly loadAverageDuringMax: number;
  /** Share of the machine's CPU (all cores = 1) used by processes outside the bench's tree, PostgreSQL and Redis excepted. */
  readonly otherProcessesCpuShare: number;
  /** The busiest of those processes: name and cores used on average. */
  readonly otherProcessesTop: { name: string; cores: number }[];
  /** Share of the machine's CPU busy over the run, everything included. */
  readonly machineCpuShare: number;
  readonly samples: number;
  readonly noisy: boolean;
  /** Why `noisy` is what it is. */
  readonly noisyReasons: string[];
}

/** The rule (docs/testing.md "The benchmark", honest figures). */
export const NOISY_BUSY_BEFORE_SHARE = 0.25;
export const NOISY_OTHER_CPU_SHARE = 0.1;

/**
 * Noisy: the machine was busy just before the run (the bench itself idle then), or others used
 * the CPU during it. Not the load average before: a 1-minute average still carries minutes
 * past — the bench's own `npm ci` and Prisma generation on a fresh clone, a run before it.
 */
export function noisyRule(busyBefore: number, otherShare: number): { noisy: boolean; reasons: string[] } {
  const reasons: string[] = [];
  if (busyBefore > NOISY_BUSY_BEFORE_SHARE)
    reasons.push(
      `the machine's CPU was ${round(busyBefore * 100, 1)}% busy in the seconds before the run (> ${NOISY_BUSY_BEFORE_SHARE * 100}%)`,
    );
  if (otherShare > NOISY_OTHER_CPU_SHARE)
    reasons.push(
      `other processes used ${round(otherShare * 100, 1)}% of the machine's CPU during the run (> ${NOISY_OTHER_CPU_SHARE * 100}%)`,
    );
  return { noisy: reasons.length > 0, reasons };
}

/**
 * Starts watching: the load average now (call it before the stack starts, with busyShare's
 * figure from just before), then a sample every
 * `everyMs` until `stop()`, which returns the figures. `onSample` runs at each tick (the taskset
 * layout pins new PostgreSQL backends there).
 */
export function watchMachine(
  busyBefore: number,
  everyMs = 1000,
  onSample?: () => void,
  /** 'mariadb': the service's database is MariaDB, whose server is shared as PostgreSQL's is. */
  store?: 'mariadb',
): { stop(): MachineLoad } {
  const shared = store === 'mariadb' ? SHARED_MARIADB : SHARED;
  const before = loadAverage();
  const cores = os.cpus().length;
  const first = machineTicks();
  let last = processes();
  let maxLoad = before[0];
  let samples = 0;
  const others = new Map<string, number>(); // name → ticks used outside the bench's tree
  const tick = () => {
    const now = processes();
    const own = ownTree(now, process.pid);
    for (const [pid, p] of now) {
      const prev = last.get(pid);
      if (!prev || own.has(pid) || shared.test(p.comm) || p.comm !== prev.comm) continue;
      if (p.ticks > prev.ticks) others.set(p.comm, (others.get(p.comm) ?? 0) + p.ticks - prev.ticks);
    }
    last = now;
    maxLoad = Math.max(maxLoad, loadAverage()[0]);
    samples += 1;
    onSample?.();
  };
  const timer = setInterval(tick, everyMs);
  timer.unref();
  return {
    stop: () => {
      clearInterval(timer);
      tick();
      const end = machineTicks();
      const total = end.total - first.total;
      const otherTicks = [...others.values()].reduce((a, b) => a + b, 0);
      const otherShare = total > 0 ? otherTicks / total : 0;
      const seconds = total / cores / CLOCK_TICKS;
      const { noisy, reasons } = noisyRule(busyBefore, otherShare);
      return {
        loadAverageBefore: before,
        busyBefore,
        loadAverageDuringMax: round(maxLoad),
        otherProcessesCpuShare: round(otherShare, 3),
        otherProcessesTop: [...others]
          .sort((a, b) => b[1] - a[1])
          .slice(0, 5)
          .map(([name, t]) => ({ name, cores: seconds > 0 ? round(t / CLOCK_TICKS / seconds) : 0 })),
        machineCpuShare: total > 0 ? round((end.busy - first.busy) / total, 3) : 0,
        samples,
        noisy,
        noisyReasons: reasons,
      };
    },
  };
}
