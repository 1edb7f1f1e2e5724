/**
 * Applies prisma/migrations/<stamp>_<name>/migration.sql in order and records each in
 * `_prisma_migrations` exactly as `prisma migrate deploy` does (same table, sha256 checksum
 * of the file), so machines that have Prisma's schema engine can take over with
 * `prisma migrate deploy` and see every migration as applied.
 *
 * Unlike Prisma, each migration runs inside one transaction: a failure leaves no trace and
 * the next run simply tries again.
 *
 * Safe to run from several instances at once (every replica's start, a deploy job): the run
 * holds a PostgreSQL advisory lock (Prisma's own key), so a second run waits, then finds
 * nothing left to do; each migration runs with `lock_timeout` (a DDL queued behind a busy
 * table fails fast instead of stalling the traffic queued behind it) and `statement_timeout`.
 * An applied migration whose file changed since is an error: nothing is applied until the
 * file is restored.
 *
 * After the migrations it deploys the SQL functions from their files, prisma/functions/*.sql, in
 * one transaction that commits only if a definition changed (prisma/functions.ts); a migration
 * after the files began may not redefine a function that has one.
 *
 * It runs as the owner (MIGRATION_DATABASE_URL, else DATABASE_URL) and then gives the
 * service's role (DATABASE_URL's user) its privileges: prisma/roles.ts.
 *
 * CLI: `tsx prisma/migrate.ts` (npm run migrate); `--roles-only`: only the service role
 * (npm run db:roles). Creates the database when missing.
 */
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { ConfigError, loadDatabaseConfig, type Config, type PgSslConfig } from '../config';
import { pgConfig } from '../platform/postgres';
import { isMysqlUrl } from '../platform/mariadb';
import { deployFunctions, guardMigration, listFunctions } from './functions';
import { migrateMysql } from './mysql-migrate';
import { applyServiceRole, redact } from './roles';

const MIGRATIONS_DIR = path.join(__dirname, 'migrations');
/** Prisma's own advisory lock key, so our runner and `prisma migrate` never run at once. */
const PRISMA_MIGRATE_LOCK = 72707369;

const CREATE_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

/** A migration folder found on disk. */
export interface MigrationFile {
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

/** The migrations on disk, oldest first. */
export function listMigrations(dir = MIGRATIONS_DIR): MigrationFile[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(path.join(dir, e.name, 'migration.sql')))
    .map((e) => e.name)
    .sort()
    .map((name) => {
      const sql = readFileSync(path.join(dir, name, 'migration.sql'));
      return { name, sql: sql.toString('utf8'), checksum: createHash('sha256').update(sql).digest('hex') };
    });
}

/** How a run connects and how long it may wait (docs/replicas.md). */
export interface MigrateOptions {
  /** The service's URL: its role is created when missing (if the owner may) and given DML (prisma/roles.ts). */
  readonly serviceUrl?: string;
  /** `lock_timeout` of each migration (default 10 s); 0: wait forever. */
  readonly lockTimeoutMs?: number;
  /** `statement_timeout` of each migration statement, and the longest wait for another run's lock (default 10 min). */
  readonly statementTimeoutMs?: number;
  /** TLS of the owner's connection (an `sslmode` in the URL wins). */
  readonly ssl?: PgSslConfig;
  /** Another migrations folder (tests). */
  readonly dir?: string;
  /** Another SQL functions folder (tests; default prisma/functions). */
  readonly functionsDir?: string;
}

/** The runner's options from the configuration. */
export function migrateOptions(config: Pick<Config, 'databaseUrl' | 'database' | 'migration'>): MigrateOptions {
  return { serviceUrl: config.databaseUrl, ssl: config.database.ssl, ...config.migration };
}

/** A connection as the owner, with the run's TLS. */
function ownerClient(databaseUrl: string, options: MigrateOptions): Client {
  return new Client({
    ...pgConfig(databaseUrl, { ssl: options.ssl, keepAliveIdleSeconds: 30, connectTimeoutMs: 10_000 }),
    application_name: 'stockhold-migrate',
  });
}

/**
 * Creates the database named in `databaseUrl` when it does not exist yet (several runs at once:
 * one creates it, the others find it). Nothing is asked of the cluster when it exists, so an
 * owner without CREATEDB (a managed PostgreSQL) only needs its database to be there.
 */
export async function ensureDatabase(databaseUrl: string, options: MigrateOptions = {}): Promise<void> {
  const probe = ownerClient(databaseUrl, options);
  try {
    await probe.connect();
    return;
  } catch (err) {
    if ((err as { code?: string }).code !== '3D000') throw err; // 3D000: the database does not exist
  } finally {
    await probe.end().catch(() => undefined);
  }
  const dbName = decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, ''));
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = ownerClient(admin.toString(), options);
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [dbName]);
    if (found.rowCount === 0) {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(dbName)}`).catch((err: { code?: string }) => {
        // Created meanwhile by a parallel runner: 42P04, or 23505 when both passed the check.
        if (err.code !== '42P04' && err.code !== '23505') throw err;
      });
    }
  } finally {
    await client.end();
  }
}

/**
 * Drops and recreates a scratch database (tests, benchmark) at the latest migration. Refuses
 * any database whose name does not say it is scratch ("test" or "bench").
 */
export async function recreateDatabase(databaseUrl: string, options: MigrateOptions = {}): Promise<void> {
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  if (!/^[\w-]*(test|bench)[\w-]*$/.test(name))
    throw new Error(`refusing to drop "${name}": not a test or bench database`);
  const admin = new URL(databaseUrl);
  admin.pathname = '/postgres';
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await client.end();
  }
  await migrate(databaseUrl, () => {}, options);
}

/** An applied migration whose file is no longer what was applied. */
export class MigrationChecksumError extends Error {
  constructor(readonly names: readonly string[]) {
    super(
      `applied migration${names.length > 1 ? 's' : ''} ${names.join(', ')} changed on disk since ${names.length > 1 ? 'they were' : 'it was'} applied: ` +
        'restore the file(s) (git checkout) and add a new migration for the change; nothing was applied',
    );
    this.name = 'MigrationChecksumError';
  }
}

/** Runs `work` under the migration advisory lock, waiting at most `waitMs` (0: forever) for another run to finish. */
async function underMigrationLock<T>(client: Client, waitMs: number, work: () => Promise<T>): Promise<T> {
  await client.query(`SELECT set_config('lock_timeout', $1, false)`, [`${waitMs}ms`]);
  try {
    await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK]);
  } catch (err) {
    if ((err as { code?: string }).code === '55P03') {
      throw new Error(
        `another migration run has held the migration lock for more than ${waitMs} ms (MIGRATION_STATEMENT_TIMEOUT_MS); is one stuck?`,
      );
    }
    throw err;
  }
  try {
    return await work();
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK]).catch(() => undefined);
  }
}

/** Applies every pending migration, then the service role's privileges; returns the names applied by this call. */
export async function migrate(
  databaseUrl: string,
  log: (line: string) => void = () => {},
  options: MigrateOptions = {},
): Promise<string[]> {
  // MySQL/MariaDB (issue 22): its own runner, resumable steps instead of one transaction.
  if (isMysqlUrl(databaseUrl)) return migrateMysql(databaseUrl, log, { serviceUrl: options.serviceUrl });
  const lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  const statementTimeoutMs = options.statementTimeoutMs ?? 600_000;
  await ensureDatabase(databaseUrl, options);
  const client = ownerClient(databaseUrl, options);
  await client.connect();
  const applied: string[] = [];
  try {
    await underMigrationLock(client, statementTimeoutMs, async () => {
      await client.query(`SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)`, [
        `${lockTimeoutMs}ms`,
        `${statementTimeoutMs}ms`,
      ]);
      await client.query(CREATE_TABLE);
      const rows = await client.query<{
        migration_name: string;
        checksum: string;
        finished_at: Date | null;
        rolled_back_at: Date | null;
      }>('SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"');
      const done = new Map(
        rows.rows.filter((r) => r.finished_at && !r.rolled_back_at).map((r) => [r.migration_name, r]),
      );
      const failed = rows.rows.find((r) => !r.finished_at && !r.rolled_back_at);
      if (failed) {
        throw new Error(`migration ${failed.migration_name} failed earlier; resolve it (prisma migrate resolve) first`);
      }
      const files = listMigrations(options.dir);
      const functions = listFunctions(options.functionsDir);
      const edited = files
        .filter((m) => done.has(m.name) && done.get(m.name)!.checksum !== m.checksum)
        .map((m) => m.name);
      if (edited.length > 0) throw new MigrationChecksumError(edited);
      const unknown = [...done.keys()].filter((name) => !files.some((m) => m.name === name));
      if (unknown.length > 0)
        log(
          `note: the database has migrations this code does not know (${unknown.join(', ')}): a newer version migrated it`,
        );
      for (const m of files) {
        if (done.has(m.name)) continue;
        log(`applying ${m.name}`);
        await client.query('BEGIN');
        try {
          const id = randomUUID();
          await client.query(
            'INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())',
            [id, m.checksum, m.name],
          );
          await guardMigration(client, m.name, functions, async () => {
            await client.query(m.sql);
          });
          await client.query(
            'UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1',
            [id],
          );
          await client.query('COMMIT');
        } catch (err) {
          await client.query('ROLLBACK');
          const code = (err as { code?: string }).code;
          const why =
            code === '55P03'
              ? `a table it changes stayed locked past MIGRATION_LOCK_TIMEOUT_MS (${lockTimeoutMs} ms) — traffic holds it; run again later`
              : code === '57014'
                ? `a statement ran past MIGRATION_STATEMENT_TIMEOUT_MS (${statementTimeoutMs} ms)`
                : (err as Error).message;
          throw new Error(`migration ${m.name} failed, nothing of it was applied: ${why}`);
        }
        applied.push(m.name);
      }
      await deployFunctions(client, functions, log).catch((err: Error & { code?: string }) => {
        const why =
          err.code === '55P03'
            ? `a lock stayed held past MIGRATION_LOCK_TIMEOUT_MS (${lockTimeoutMs} ms); run again later`
            : err.message;
        throw new Error(`SQL functions not deployed, none changed: ${why}`);
      });
      if (options.serviceUrl) await applyServiceRole(client, options.serviceUrl, log);
    });
  } finally {
    await client.end();
  }
  return applied;
}

/** `npm run db:roles`: the service role alone (created if missing and allowed, then its privileges). */
export async function applyRoles(
  databaseUrl: string,
  log: (line: string) => void,
  options: MigrateOptions,
): Promise<void> {
  if (!options.serviceUrl) throw new Error('no service URL (DATABASE_URL)');
  const client = ownerClient(databaseUrl, options);
  await client.connect();
  try {
    await underMigrationLock(client, options.statementTimeoutMs ?? 600_000, () =>
      applyServiceRole(client, options.serviceUrl!, log),
    );
  } finally {
    await client.end();
  }
}

if (require.main === module) {
  const say = (line: string) => console.log(`[migrate] ${line}`);
  (async () => {
    const config = loadDatabaseConfig();
    const options = migrateOptions(config);
    if (process.argv.includes('--roles-only')) {
      await applyRoles(config.migrationDatabaseUrl, say, options);
      return;
    }
    say(`migrating as ${redact(config.migrationDatabaseUrl)}`);
    const applied = await migrate(config.migrationDatabaseUrl, say, options);
    say(`${applied.length} applied, database up to date`);
  })().catch((err: Error) => {
    console.error(`[migrate] ${err instanceof ConfigError ? `configuration refused: ${err.message}` : err.message}`);
    process.exit(1);
  });
}
