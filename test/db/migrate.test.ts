/**
 * The migration runner as several replicas use it (docs/replicas.md): runs
 * started at once on a fresh database apply each migration once; an applied migration edited
 * since is an error, not a warning; lock_timeout and statement_timeout keep a migration from
 * stalling traffic or running for ever, and a migration that fails leaves no trace. The SQL
 * functions' files (prisma/functions) are deployed by the run after a file changed, and only
 * then; a migration may not redefine a function that has a file.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { listMigrations, migrate, MigrationChecksumError } from '../../prisma/migrate';
import { asRole } from '../../prisma/roles';
import { TEST_DATABASE_URL } from '../helpers/env';

const ROOT = path.resolve(__dirname, '../..');
const name = `${decodeURIComponent(new URL(TEST_DATABASE_URL).pathname.slice(1))}_migrate`;
const ownerUrl = (() => {
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = `/${name}`;
  return u.toString();
})();
const serviceUrl = asRole(ownerUrl, 'stockhold_app');

async function sql<T extends Record<string, unknown>>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text, values)).rows;
  } finally {
    await c.end();
  }
}

const adminUrl = (() => {
  const u = new URL(TEST_DATABASE_URL);
  u.pathname = '/postgres';
  return u.toString();
})();
const dropDatabase = () => sql(adminUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);

interface Run {
  code: number | null;
  out: string;
}

/** `npm run migrate` as a child process, as a replica's start or a deploy job runs it. */
function runCli(env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'prisma/migrate.ts')],
      {
        cwd: ROOT,
        env: {
          ...process.env,
          MIGRATION_DATABASE_URL: ownerUrl,
          DATABASE_URL: serviceUrl,
          NODE_ENV: 'production',
          ...env,
        },
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
    );
  });
}

let scratch: string;
/** A copy of the migrations folder to add to or edit. */
function migrationsCopy(): string {
  const dir = mkdtempSync(path.join(scratch, 'migrations-'));
  cpSync(path.join(ROOT, 'prisma/migrations'), dir, { recursive: true });
  return dir;
}
function addMigration(dir: string, stamp: string, text: string): string {
  const folder = `${stamp}_test`;
  mkdirSync(path.join(dir, folder));
  writeFileSync(path.join(dir, folder, 'migration.sql'), text);
  return folder;
}

beforeAll(() => {
  scratch = mkdtempSync(path.join(os.tmpdir(), 'stockhold-migrate-'));
});
afterAll(async () => {
  rmSync(scratch, { recursive: true, force: true });
  await dropDatabase();
});

it('three runs started at once on a fresh database: one applies each migration, exactly once; the others wait and find nothing to do', async () => {
  await dropDatabase();
  const files = listMigrations();
  // NODE_ENV=production without any service secret: the runner needs only database settings.
  const runs = await Promise.all([runCli(), runCli(), runCli()]);
  for (const run of runs) expect([run.code, run.out]).toEqual([0, expect.stringContaining('database up to date')]);

  const rows = await sql<{ migration_name: string; n: number; finished: number; checksum: string }>(
    ownerUrl,
    `SELECT migration_name, count(*)::int AS n, count(finished_at)::int AS finished, max(checksum) AS checksum
       FROM "_prisma_migrations" GROUP BY migration_name ORDER BY migration_name`,
  );
  expect(rows).toEqual(files.map((f) => ({ migration_name: f.name, n: 1, finished: 1, checksum: f.checksum })));
  // Across the three, each migration was applied by one run only.
  const applying = runs.flatMap((r) =>
    r.out
      .split('\n')
      .filter((l) => l.includes('applying '))
      .map((l) => l.replace(/.*applying /, '').trim()),
  );
  expect(applying.sort()).toEqual(files.map((f) => f.name));
  expect(runs.map((r) => /(\d+) applied/.exec(r.out)?.[1]).sort()).toEqual(['0', '0', String(files.length)]);
  // And each gave the service role its privileges, one after the other.
  const grants = await sql<{ privileges: string }>(
    ownerUrl,
    `SELECT string_agg(privilege_type, ',' ORDER BY privilege_type) AS privileges
      FROM information_schema.role_table_grants WHERE grantee = 'stockhold_app' AND table_name = 'stock_movements'`,
  );
  expect(grants[0].privileges).toBe('INSERT,SELECT');

  // Once more, with nothing pending: a no-op, exit 0.
  expect(await runCli()).toEqual({ code: 0, out: expect.stringContaining('0 applied') });
});

it('an applied migration edited since is an error (exit 1, nothing applied), not a warning', async () => {
  const dir = migrationsCopy();
  const [first] = listMigrations(dir);
  appendFileSync(path.join(dir, first.name, 'migration.sql'), '\n-- an innocent-looking edit\n');
  const pending = addMigration(dir, '29991231000000', 'CREATE TABLE must_not_appear (id int);');
  const error = await migrate(ownerUrl, () => {}, { dir }).catch((err: unknown) => err);
  expect(error).toBeInstanceOf(MigrationChecksumError);
  expect((error as Error).message).toContain(first.name);
  const applied = await sql(ownerUrl, `SELECT 1 FROM "_prisma_migrations" WHERE migration_name = $1`, [pending]);
  expect(applied).toHaveLength(0);
  expect(await sql(ownerUrl, `SELECT to_regclass('must_not_appear') AS t`)).toEqual([{ t: null }]);

  // The CLI: the same run of the real folder, with the recorded checksum tampered.
  await sql(ownerUrl, `UPDATE "_prisma_migrations" SET checksum = repeat('0', 64) WHERE migration_name = $1`, [
    first.name,
  ]);
  try {
    const run = await runCli();
    expect(run.code).toBe(1);
    expect(run.out).toMatch(new RegExp(`applied migration ${first.name} changed on disk`));
  } finally {
    await sql(ownerUrl, `UPDATE "_prisma_migrations" SET checksum = $2 WHERE migration_name = $1`, [
      first.name,
      first.checksum,
    ]);
  }
});

it('a migration waiting on a busy table gives up after lock_timeout and leaves no trace; once the table is free it applies', async () => {
  const dir = migrationsCopy();
  const pending = addMigration(dir, '29991231000001', 'ALTER TABLE inventory_levels ADD COLUMN lock_test INT;');
  // Traffic: an open transaction that wrote to the table (a row lock and RowExclusiveLock).
  const traffic = new Client({ connectionString: ownerUrl });
  await traffic.connect();
  try {
    await traffic.query('BEGIN');
    await traffic.query(`UPDATE inventory_levels SET updated_at = now() WHERE false`);
    const started = Date.now();
    await expect(migrate(ownerUrl, () => {}, { dir, lockTimeoutMs: 300 })).rejects.toThrow(
      /MIGRATION_LOCK_TIMEOUT_MS \(300 ms\)/,
    );
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await sql(ownerUrl, `SELECT 1 FROM "_prisma_migrations" WHERE migration_name = $1`, [pending])).toHaveLength(
      0,
    );
  } finally {
    await traffic.query('ROLLBACK');
    await traffic.end();
  }
  expect(await migrate(ownerUrl, () => {}, { dir, lockTimeoutMs: 300 })).toEqual([pending]);
  expect(
    await sql(
      ownerUrl,
      `SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'inventory_levels' AND column_name = 'lock_test'`,
    ),
  ).toEqual([{ n: 1 }]);
});

it('a statement running past statement_timeout fails its migration, which leaves no trace', async () => {
  const dir = migrationsCopy();
  const pending = addMigration(dir, '29991231000002', 'CREATE TABLE slow_test (id int); SELECT pg_sleep(3);');
  await expect(migrate(ownerUrl, () => {}, { dir, statementTimeoutMs: 200 })).rejects.toThrow(
    /MIGRATION_STATEMENT_TIMEOUT_MS \(200 ms\)/,
  );
  expect(await sql(ownerUrl, `SELECT 1 FROM "_prisma_migrations" WHERE migration_name = $1`, [pending])).toHaveLength(
    0,
  );
  expect(await sql(ownerUrl, `SELECT to_regclass('slow_test') AS t`)).toEqual([{ t: null }]);
});

/** A copy of prisma/functions to edit. */
function functionsCopy(): string {
  const dir = mkdtempSync(path.join(scratch, 'functions-'));
  cpSync(path.join(ROOT, 'prisma/functions'), dir, { recursive: true });
  return dir;
}
const sourceOf = async (fn: string) =>
  (await sql<{ src: string }>(ownerUrl, `SELECT prosrc AS src FROM pg_proc WHERE proname = $1`, [fn])).map(
    (r) => r.src,
  );

it('a changed function file is deployed by the next run, without a migration; an unchanged one changes nothing; a hand-made change is undone', async () => {
  const functionsDir = functionsCopy();
  const file = path.join(functionsDir, 'stock_movements_append_only.sql');
  writeFileSync(file, readFileSync(file, 'utf8').replace('append-only (% refused)', 'append-only, always (% refused)'));
  const lines: string[] = [];
  const functionLines = () => lines.splice(0).filter((l) => l.startsWith('function '));
  expect(await migrate(ownerUrl, (l) => lines.push(l), { functionsDir })).toEqual([]);
  expect(functionLines()).toEqual([
    'function stock_movements_append_only: replaced by prisma/functions/stock_movements_append_only.sql',
  ]);
  expect(await sourceOf('stock_movements_append_only')).toEqual([expect.stringContaining('append-only, always')]);

  // The same files again: nothing differs, nothing is committed.
  await migrate(ownerUrl, (l) => lines.push(l), { functionsDir });
  expect(functionLines()).toEqual([]);

  // The repository's files: the function is back as they say.
  await migrate(ownerUrl, (l) => lines.push(l));
  expect(functionLines()).toEqual([
    'function stock_movements_append_only: replaced by prisma/functions/stock_movements_append_only.sql',
  ]);
  expect(await sourceOf('stock_movements_append_only')).toEqual([expect.not.stringContaining('always')]);

  // A hotfix by hand lasts until the next run.
  await sql(
    ownerUrl,
    `CREATE OR REPLACE FUNCTION unsellable_quantity(p_sku TEXT, p_warehouse TEXT) RETURNS INTEGER LANGUAGE sql STABLE AS $$ SELECT 0 $$`,
  );
  await migrate(ownerUrl, (l) => lines.push(l));
  expect(functionLines()).toEqual([
    'function unsellable_quantity: replaced by prisma/functions/unsellable_quantity.sql',
  ]);
  expect(await sourceOf('unsellable_quantity')).toEqual([expect.stringContaining('stock_lots')]);
});

it('a function file with a new signature is refused (an overload beside the old one): nothing deployed', async () => {
  const functionsDir = functionsCopy();
  writeFileSync(
    path.join(functionsDir, 'unsellable_quantity.sql'),
    'CREATE OR REPLACE FUNCTION "unsellable_quantity"(p_sku TEXT) RETURNS INTEGER LANGUAGE sql STABLE AS $$ SELECT 0 $$;',
  );
  writeFileSync(
    path.join(functionsDir, 'lots_match_on_hand.sql'),
    readFileSync(path.join(functionsDir, 'lots_match_on_hand.sql'), 'utf8').replace('do not sum', 'never sum'),
  );
  await expect(migrate(ownerUrl, () => {}, { functionsDir })).rejects.toThrow(/unsellable_quantity \(2 definitions\)/);
  expect(await sourceOf('unsellable_quantity')).toHaveLength(1);
  expect(await sourceOf('lots_match_on_hand')).toEqual([expect.stringContaining('do not sum')]);
});

it('a migration that redefines a function kept in prisma/functions is refused and leaves no trace (change the file instead)', async () => {
  const dir = migrationsCopy();
  const pending = addMigration(
    dir,
    '29991231000004',
    `CREATE TABLE redefine_test (id int);
     CREATE OR REPLACE FUNCTION "unsellable_quantity"(p_sku TEXT, p_warehouse TEXT) RETURNS INTEGER LANGUAGE sql STABLE AS $$ SELECT 0 $$;`,
  );
  await expect(migrate(ownerUrl, () => {}, { dir })).rejects.toThrow(
    /migration 29991231000004_test failed.*redefines unsellable_quantity, defined by prisma\/functions\/unsellable_quantity\.sql/,
  );
  expect(await sql(ownerUrl, `SELECT 1 FROM "_prisma_migrations" WHERE migration_name = $1`, [pending])).toHaveLength(
    0,
  );
  expect(await sql(ownerUrl, `SELECT to_regclass('redefine_test') AS t`)).toEqual([{ t: null }]);
  expect(await sourceOf('unsellable_quantity')).toEqual([expect.stringContaining('stock_lots')]);
});
