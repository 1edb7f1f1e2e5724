/**
 * The MySQL/MariaDB migration runner (issue 22, docs/mysql.md#6-transactional-ddl--resumable-migrations--recorded-idempotent-steps):
 * prisma/migrate.ts hands it every `mysql://` or `mariadb://` URL.
 *
 * MySQL commits before and after each DDL statement, so a migration cannot roll back as a
 * whole. A migration here (prisma/mysql/migrations/<NNNN_name>/migration.sql) is a list of
 * steps, each introduced by a `-- step: <name>` line and holding one statement written to be
 * idempotent (IF NOT EXISTS, OR REPLACE). Each step is recorded in `_stockhold_mysql_steps`
 * (with its sha256) right after it succeeds; a run skips the recorded steps, so a run that
 * crashed mid-migration resumes at the first step not recorded (and re-running the one step
 * that may have committed without its record is harmless). A recorded step whose text changed
 * is refused before anything runs. Then the procedures (prisma/mysql/procedures/*.sql, one
 * `CREATE OR REPLACE PROCEDURE` each) are redeployed, and the service user gets its grants
 * (prisma/mysql-roles.ts).
 *
 * Runs are serialised by GET_LOCK: session-scoped is right here (the run spans many implicit
 * commits); released in `finally`, or by the server when the connection drops.
 *
 * CLI: `DATABASE_URL=mariadb://… node --import tsx prisma/mysql-migrate.ts`.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Connection } from 'mariadb';
import { connectMariadb } from '../platform/mariadb';
import { applyMysqlServiceRole } from './mysql-roles';
import { roleOf } from './roles';

const MYSQL_DIR = path.join(__dirname, 'mysql');
const MIGRATE_LOCK = 'stockhold_migrate';

const CREATE_STEPS_TABLE = `
CREATE TABLE IF NOT EXISTS _stockhold_mysql_steps (
  migration VARCHAR(255) NOT NULL,
  step VARCHAR(255) NOT NULL,
  checksum CHAR(64) NOT NULL,
  finished_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (migration, step)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`;

/** One step of a migration: a name, one statement, its checksum. */
export interface MysqlStep {
  readonly migration: string;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

/** The steps of every migration on disk, oldest migration first, in file order. */
export function listMysqlSteps(dir = path.join(MYSQL_DIR, 'migrations')): MysqlStep[] {
  const migrations = readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort();
  return migrations.flatMap((migration) => {
    const text = readFileSync(path.join(dir, migration, 'migration.sql'), 'utf8');
    const parts = text.split(/^-- step: *(\S+) *$/m);
    const steps: MysqlStep[] = [];
    for (let i = 1; i < parts.length; i += 2) {
      const sql = parts[i + 1].trim();
      if (steps.some((s) => s.name === parts[i])) throw new Error(`${migration}: step ${parts[i]} twice`);
      steps.push({ migration, name: parts[i], sql, checksum: createHash('sha256').update(sql).digest('hex') });
    }
    return steps;
  });
}

/** The procedures on disk: name → `CREATE OR REPLACE PROCEDURE` text. */
export function listMysqlProcedures(dir = path.join(MYSQL_DIR, 'procedures')): { name: string; sql: string }[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => ({ name: f.replace(/\.sql$/, ''), sql: readFileSync(path.join(dir, f), 'utf8') }));
}

/** Options of a MySQL run. */
export interface MysqlMigrateOptions {
  /** The service's URL: its user is created when missing (if the owner may) and given its grants. */
  readonly serviceUrl?: string;
  /** Another migrations folder (tests). */
  readonly dir?: string;
  /** Stop after this many steps (tests: a run that "crashes" mid-migration). */
  readonly stopAfterSteps?: number;
}

/** A recorded step whose statement is no longer what ran. */
export class MysqlStepChangedError extends Error {
  constructor(readonly steps: readonly string[]) {
    super(
      `applied MySQL migration step(s) ${steps.join(', ')} changed on disk since they ran: restore them and add a new step; nothing was applied`,
    );
    this.name = 'MysqlStepChangedError';
  }
}

/** Creates the URL's database when missing (the server's user may: locally root). */
async function ensureMysqlDatabase(databaseUrl: string): Promise<void> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  if (!/^\w+$/.test(name)) throw new Error(`refusing database name "${name}": letters, digits and _ only`);
  const admin = new URL(databaseUrl);
  admin.pathname = '/';
  const conn = await connectMariadb(admin.toString());
  try {
    await conn.query(`CREATE DATABASE IF NOT EXISTS \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await conn.end();
  }
}

/** Applies every step not recorded, the procedures, then the service user's grants; returns the steps run. */
export async function migrateMysql(
  databaseUrl: string,
  log: (line: string) => void = () => {},
  options: MysqlMigrateOptions = {},
): Promise<string[]> {
  await ensureMysqlDatabase(databaseUrl);
  const conn = await connectMariadb(databaseUrl);
  const ran: string[] = [];
  try {
    const [{ got }] = await conn.query<{ got: number | null }[]>('SELECT GET_LOCK(?, 600) AS got', [MIGRATE_LOCK]);
    if (got !== 1) throw new Error('another migration run has held the migration lock for 10 minutes; is one stuck?');
    try {
      await conn.query(CREATE_STEPS_TABLE);
      const done = new Map(
        (
          await conn.query<{ migration: string; step: string; checksum: string }[]>(
            'SELECT migration, step, checksum FROM _stockhold_mysql_steps',
          )
        ).map((r) => [`${r.migration}/${r.step}`, r.checksum]),
      );
      const steps = listMysqlSteps(options.dir);
      const changed = steps
        .filter((s) => done.has(`${s.migration}/${s.name}`) && done.get(`${s.migration}/${s.name}`) !== s.checksum)
        .map((s) => `${s.migration}/${s.name}`);
      if (changed.length > 0) throw new MysqlStepChangedError(changed);
      for (const step of steps) {
        const key = `${step.migration}/${step.name}`;
        if (done.has(key)) continue;
        if (options.stopAfterSteps !== undefined && ran.length >= options.stopAfterSteps) return ran;
        log(`applying ${key}`);
        try {
          await conn.query(step.sql);
        } catch (err) {
          throw new Error(
            `MySQL migration step ${key} failed (the steps before it stay applied; fix and run again): ${(err as Error).message}`,
          );
        }
        await conn.query('INSERT INTO _stockhold_mysql_steps (migration, step, checksum) VALUES (?, ?, ?)', [
          step.migration,
          step.name,
          step.checksum,
        ]);
        ran.push(key);
      }
      await deployProcedures(conn, log);
      // The owner is never its own service user (that would create `<owner>'@'%'` and cut its rights to DML).
      if (options.serviceUrl && roleOf(options.serviceUrl) !== roleOf(databaseUrl))
        await applyMysqlServiceRole(conn, options.serviceUrl, log);
      else if (options.serviceUrl)
        log('the service user is the migration user: no grants applied (give the service its own user)');
    } finally {
      await conn.query('DO RELEASE_LOCK(?)', [MIGRATE_LOCK]).catch(() => undefined);
    }
  } finally {
    await conn.end();
  }
  return ran;
}

/** Every procedure file, redeployed (CREATE OR REPLACE: MariaDB; MySQL 8 needs DROP + CREATE, docs/mysql.md). */
async function deployProcedures(conn: Connection, log: (line: string) => void): Promise<void> {
  for (const p of listMysqlProcedures()) {
    await conn.query(p.sql);
    log(`procedure ${p.name} deployed`);
  }
}

/** Drops and recreates a scratch database (tests, bench): its name must say test, bench, scratch or helper (a helper's own test database). */
export async function recreateMysqlDatabase(databaseUrl: string, options: MysqlMigrateOptions = {}): Promise<string[]> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  if (!/^\w*(test|bench|scratch|helper)\w*$/.test(name))
    throw new Error(`refusing to drop "${name}": not a scratch database`);
  const admin = new URL(databaseUrl);
  admin.pathname = '/';
  const conn = await connectMariadb(admin.toString());
  try {
    await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
  } finally {
    await conn.end();
  }
  return migrateMysql(databaseUrl, () => {}, options);
}

if (require.main === module) {
  const url = process.env.MIGRATION_DATABASE_URL ?? process.env.DATABASE_URL ?? '';
  migrateMysql(url, (line) => console.log(`[migrate:mysql] ${line}`), { serviceUrl: process.env.DATABASE_URL })
    .then((ran) => console.log(`[migrate:mysql] ${ran.length} steps applied, database up to date`))
    .catch((err: Error) => {
      console.error(`[migrate:mysql] ${err.message}`);
      process.exit(1);
    });
}
