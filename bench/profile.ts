/**
 * Summarises V8 CPU profiles (`node --cpu-prof`) of the API and worker taken during a
 * benchmark run: where the time went, by function (self time) and by package.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CLOCK_TICKS } from './machine';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  readonly file: string;
  readonly seconds: number;
  readonly topFunctions: { name: string; percent: number }[];
  readonly byPackage: { name: string; percent: number }[];
}

/** The package a profile frame's script belongs to (node_modules package, node core, or the repo's top folder and file). */
export function packageOf(url: string): string {
  if (!url) return '(native / idle / gc)';
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  if (url.startsWith('node:')) return 'node core';
  const rel = url.replace(/^file:\/\//, '').replace(`${path.resolve(__dirname, '..')}/`, '');
  return rel.split('/').slice(0, 2).join('/');
}

export function summarise(file: string, top = 12): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0) || 1;
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  for (const [id, t] of self) {
    const { callFrame } = byId.get(id)!;
    const name =
      `${callFrame.functionName || '(anonymous)'} ${callFrame.url ? `${packageOf(callFrame.url)}:${callFrame.lineNumber + 1}` : ''}`.trim();
    fn.set(name, (fn.get(name) ?? 0) + t);
    pkg.set(packageOf(callFrame.url), (pkg.get(packageOf(callFrame.url)) ?? 0) + t);
  }
  const rank = (m: Map<string, number>) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, t]) => ({ name, percent: Math.round((1000 * t) / total) / 10 }));
  return {
    file: path.basename(file),
    seconds: (profile.endTime - profile.startTime) / 1e6,
    topFunctions: rank(fn),
    byPackage: rank(pkg),
  };
}

/** Per process directory, the busiest thread's profile (the main thread, not tsx's loader). */
export function summariseDir(dir: string): ProfileSummary[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const files = readdirSync(path.join(dir, d.name))
        .filter((f) => f.endsWith('.cpuprofile'))
        .map((f) => path.join(dir, d.name, f));
      const largest = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
      return { ...summarise(largest), file: d.name };
    });
}

/**
 * CPU seconds (user + system) a process has used so far, from /proc; with `reaped`, also what
 * its exited and waited-for children used (PostgreSQL backends that closed count on the postmaster).
 */
export function cpuSeconds(pid: number, reaped = false): number {
  const { user, system, reapedChildren } = cpuTimes(pid);
  return user + system + (reaped ? reapedChildren : 0);
}

/** User and system CPU seconds a process has used so far, and its waited-for children's (0 if it is gone). */
export function cpuTimes(pid: number): { user: number; system: number; reapedChildren: number } {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    // utime, stime, cutime, cstime in clock ticks
    const [user, system, cutime, cstime] = [11, 12, 13, 14].map((i) => Number(fields[i]) / CLOCK_TICKS);
    return { user, system, reapedChildren: cutime + cstime };
  } catch {
    return { user: 0, system: 0, reapedChildren: 0 };
  }
}

/** CPU seconds used so far by each process group of the stack, the load generator included. */
export function cpuByProcess(
  pids: Readonly<Record<string, number>>,
  /** 'mariadb': count the MariaDB server (key `mariadb`) instead of PostgreSQL's. */
  store?: 'mariadb',
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) out[name] = cpuSeconds(pid);
  const byComm = (comm: string, reaped = false) =>
    readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          return readFileSync(`/proc/${d}/comm`, 'utf8').trim().startsWith(comm);
        } catch {
          return false;
        }
      })
      .reduce((sum, d) => sum + cpuSeconds(Number(d), reaped), 0);
  // The whole server: other databases' work on this machine counts too (noted in the report).
  if (store === 'mariadb') out.mariadb = byComm('mariadbd');
  else out.postgres = byComm('postgres', true);
  out.redis = byComm('redis-server');
  const self = process.cpuUsage();
  out['load generator'] = (self.user + self.system) / 1e6;
  return out;
}

/**
 * CPU seconds per thread name of one process (/proc/<pid>/task): where a process's time goes
 * beyond its main JavaScript thread, which is all a V8 profile sees (the Temporal worker's Rust
 * core and workflow threads, libuv's pool, the GC helpers).
 */
export function cpuByThread(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8')
          .trim()
          .replace(/[-_]?\d+$/, '');
        // The main thread runs the JavaScript; Node's other threads (V8 platform, libuv pool) share its name.
        const name = tid === String(pid) ? 'main (JS)' : comm === 'node' ? 'node (V8/libuv helpers)' : comm;
        const fields = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
        out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
      } catch {
        // the thread ended meanwhile
      }
    }
  } catch {
    // the process ended
  }
  return out;
}
