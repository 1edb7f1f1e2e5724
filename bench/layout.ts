/**
 * The production layout (issue 21 "Done when"): `npm run bench -- --taskset` runs the bench a
 * second time with the API on a core of its own, as in production where the worker, Temporal
 * and PostgreSQL run elsewhere. `taskset` pins the API process (every thread) to CPU 0 and the
 * rest of what the bench starts to CPU 1: the bench process itself (the load generator, the
 * event subscriber) before it starts anything, so the dev server, the worker, the no-op
 * workflows' worker and pgbench inherit CPU 1; the no-op route's server goes on CPU 0 beside
 * the API, so its baseline compares like with like; and the PostgreSQL backends serving the
 * bench's database are moved to CPU 1 as they appear (every second). What it cannot pin: the
 * postmaster and PostgreSQL's background processes (WAL writer, checkpointer, autovacuum) and
 * the Redis server, shared with whatever else uses them, and every process that is not the
 * bench's. On MariaDB (`--store mariadb`) the server is one process with a thread per
 * connection: the whole server goes to CPU 1 for the run and gets its own CPUs back after
 * ({@link mariadbServerPinner}).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { Client } from 'pg';
import { connectMariadb } from '../platform/mariadb';

export interface Layout {
  /** Printed above the report and stored in it. */
  readonly label: string;
  readonly apiCpu: number;
  readonly restCpu: number;
}

export const PRODUCTION_LAYOUT: Layout = {
  label:
    'production layout (taskset): the API alone on CPU 0; the worker, the Temporal dev server, the load generator and this database’s PostgreSQL backends on CPU 1',
  apiCpu: 0,
  restCpu: 1,
};

/** The same layout on MariaDB: the whole MariaDB server on CPU 1. */
export const MARIADB_PRODUCTION_LAYOUT: Layout = {
  ...PRODUCTION_LAYOUT,
  label:
    'production layout (taskset): the API alone on CPU 0; the worker, the Temporal dev server, the load generator and the MariaDB server on CPU 1',
};

/** What moves the store's server side to the rest's CPU during a run, and gives it back after. */
export interface StorePinner {
  pinned(): number;
  sweep(): Promise<void>;
  close(): Promise<void>;
}

/** Pins every thread of `pid` to `cpu`; false when taskset refused (the process ended, no such CPU). */
export function pin(pid: number, cpu: number): boolean {
  try {
    execFileSync('taskset', ['-a', '-cp', String(cpu), String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Refuses a layout this machine cannot run: no taskset, or fewer than two CPUs. */
export function checkLayout(layout: Layout): void {
  try {
    execFileSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
  } catch {
    throw new Error('--taskset needs the taskset command (util-linux)');
  }
  const cpus = os.cpus().length;
  if (Math.max(layout.apiCpu, layout.restCpu) >= cpus)
    throw new Error(`--taskset pins to CPUs ${layout.apiCpu} and ${layout.restCpu}; this machine has ${cpus}`);
}

/**
 * Moves the backends of `databaseUrl`'s database to `cpu` as they appear: call `sweep()` now
 * and then (the machine watch does, every second); `close()` when the stack has stopped.
 */
export function backendPinner(databaseUrl: string, cpu: number): StorePinner {
  const pinned = new Set<number>();
  let client: Client | undefined;
  let busy = false;
  return {
    pinned: () => pinned.size,
    async sweep(): Promise<void> {
      if (busy) return;
      busy = true;
      try {
        if (!client) {
          client = new Client({ connectionString: databaseUrl, application_name: 'bench-layout' });
          await client.connect();
          pin((await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid, cpu);
        }
        const { rows } = await client.query<{ pid: number }>(
          'SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = $1',
          ['client backend'],
        );
        for (const { pid } of rows) if (!pinned.has(pid) && pin(pid, cpu)) pinned.add(pid);
      } catch {
        // the database is being recreated, or gone: the next sweep tries again
        await client?.end().catch(() => undefined);
        client = undefined;
      } finally {
        busy = false;
      }
    },
    async close(): Promise<void> {
      await client?.end().catch(() => undefined);
    },
  };
}

/** `taskset -p`'s affinity mask of `pid` (hex, e.g. "3"). */
function affinityOf(pid: number): string {
  const said = execFileSync('taskset', ['-p', String(pid)])
    .toString()
    .trim();
  const mask = /:\s*([0-9a-f,]+)$/i.exec(said)?.[1];
  if (!mask) throw new Error(`taskset -p ${pid} said ${JSON.stringify(said)}`);
  return mask;
}

/**
 * MariaDB's server (`databaseUrl`'s, found by its own `@@pid_file`: it must run on this machine)
 * pinned, every thread, to `cpu` for the run; `close()` gives every thread back the affinity
 * the server had. The whole server moves, so whatever else uses it shares CPU 1 meanwhile.
 */
export async function mariadbServerPinner(databaseUrl: string, cpu: number): Promise<StorePinner> {
  const conn = await connectMariadb(databaseUrl);
  let pidFile: string;
  try {
    [{ pidFile }] = await conn.query<{ pidFile: string }[]>('SELECT @@pid_file AS pidFile');
  } finally {
    await conn.end();
  }
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    throw new Error(`--taskset on MariaDB pins its server: ${pidFile} (@@pid_file) is not readable here`);
  }
  const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  if (!/^(mariadbd|mysqld)$/.test(comm)) throw new Error(`--taskset: pid ${pid} of ${pidFile} is ${comm}, not MariaDB`);
  const before = affinityOf(pid);
  if (!pin(pid, cpu)) throw new Error(`--taskset: could not pin the MariaDB server (pid ${pid}) to CPU ${cpu}`);
  return {
    pinned: () => 1,
    sweep: async () => undefined,
    close: async () => {
      execFileSync('taskset', ['-a', '-p', before, String(pid)], { stdio: 'ignore' });
    },
  };
}
