/**
 * The SQL functions as source files: prisma/functions/<name>.sql, one `CREATE OR REPLACE
 * FUNCTION "<name>"` each, with a header saying its inputs, outcome, error codes and lock order.
 * The file is the definition; migrations hold only history (and the schema: tables, triggers).
 *
 * prisma/migrate.ts deploys them after the migrations, under the same advisory lock and
 * lock_timeout, in ONE transaction: every file is run (first without body checks, so files may
 * call each other whatever their order; then with them, so a body naming a missing table or
 * column fails the run), and the transaction commits only if a definition changed
 * (`pg_get_functiondef`: signature, language, volatility, SET clauses, body). An unchanged
 * file costs a rolled-back transaction and invalidates no session's cached plans. So a changed
 * file is deployed by the next `npm run migrate`, without a new migration; a function a
 * migration or a hand-made hotfix left different from its file is brought back to the file.
 *
 * Migrations after LAST_MIGRATION_BEFORE_FUNCTION_FILES may not redefine a function that has a
 * file (the runner refuses the migration: its change would be overwritten by the file right
 * after); they may create one (a trigger needs its function to exist: the migration creates it,
 * the file is the definition from then on) and DROP one (a new signature: CREATE OR REPLACE cannot change the arguments or
 * the result type, and would add an overload beside the old one, which deploy refuses).
 *
 * No bookkeeping table: the database's own definitions are compared, so `prisma migrate
 * deploy` (ADR 0006) still sees exactly the migrations it knows.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Client } from 'pg';

export const FUNCTIONS_DIR = path.join(__dirname, 'functions');

/**
 * The last migration written before the function files: it and every migration before it are
 * history (they created and replaced functions; on a fresh database they still run first, then
 * the files replace what they left). A later migration that redefines a function with a file fails.
 */
export const LAST_MIGRATION_BEFORE_FUNCTION_FILES = '20261207130000_saga_payment_mismatch';

/** One function's file. */
export interface FunctionFile {
  /** The function's name: the file's name without `.sql`. */
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

/** The function files on disk, by name. */
export function listFunctions(dir = FUNCTIONS_DIR): FunctionFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => {
      const sql = readFileSync(path.join(dir, f));
      return {
        name: f.slice(0, -'.sql'.length),
        sql: sql.toString('utf8'),
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
}

/** The definitions (`pg_get_functiondef`) of the functions named, in schema public: one per overload. */
export async function functionDefinitions(client: Client, names: readonly string[]): Promise<Map<string, string[]>> {
  const { rows } = await client.query<{ name: string; def: string }>(
    `SELECT p.proname AS name, pg_get_functiondef(p.oid) AS def
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p') AND p.proname = ANY($1::text[])
      ORDER BY p.oid`,
    [[...names]],
  );
  const out = new Map<string, string[]>();
  for (const r of rows) out.set(r.name, [...(out.get(r.name) ?? []), r.def]);
  return out;
}

/** Every function of schema public that no extension owns (what must each have a file). */
export async function liveFunctionNames(client: Client): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT p.proname AS name FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = 'public' AND p.prokind IN ('f', 'p')
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')
      ORDER BY 1`,
  );
  return rows.map((r) => r.name);
}

const same = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
  JSON.stringify(a ?? []) === JSON.stringify(b ?? []);

/** Runs the files (the caller's transaction): without body checks, then with them. */
async function runFiles(client: Client, files: readonly FunctionFile[]): Promise<void> {
  for (const checks of ['off', 'on']) {
    await client.query(`SET LOCAL check_function_bodies = ${checks}`);
    for (const f of files) {
      await client.query(f.sql).catch((err: Error & { code?: string }) => {
        throw Object.assign(new Error(`prisma/functions/${f.name}.sql: ${err.message}`), { code: err.code });
      });
    }
  }
}

/**
 * What the files would make of the functions, without changing anything (the caller's
 * transaction, in a savepoint): each file's resulting definitions, by name.
 */
export async function fileDefinitions(client: Client, files: readonly FunctionFile[]): Promise<Map<string, string[]>> {
  await client.query('SAVEPOINT function_files');
  try {
    await runFiles(client, files);
    return await functionDefinitions(
      client,
      files.map((f) => f.name),
    );
  } finally {
    await client.query('ROLLBACK TO SAVEPOINT function_files');
  }
}

/** A migration after the function files redefined a function that has one. */
export class FunctionRedefinedError extends Error {
  constructor(
    readonly migration: string,
    readonly functions: readonly string[],
  ) {
    super(
      `migration ${migration} redefines ${functions.join(', ')}, defined by ${functions.map((n) => `prisma/functions/${n}.sql`).join(', ')}: ` +
        'change the file instead (npm run migrate deploys it); a migration may only DROP such a function (a new signature)',
    );
    this.name = 'FunctionRedefinedError';
  }
}

/**
 * Runs `apply` (one migration, inside its transaction) and refuses it when it redefines a
 * function that has a file otherwise than the file does (creating or dropping one is allowed).
 */
export async function guardMigration(
  client: Client,
  migration: string,
  files: readonly FunctionFile[],
  apply: () => Promise<void>,
): Promise<void> {
  if (migration <= LAST_MIGRATION_BEFORE_FUNCTION_FILES || files.length === 0) return apply();
  const names = files.map((f) => f.name);
  const before = await functionDefinitions(client, names);
  await apply();
  const after = await functionDefinitions(client, names);
  // Creating a function is allowed (a migration's triggers need theirs to exist; the file
  // replaces it right after): on a fresh database an old migration creates the body of its day,
  // which the file may since have changed. Only a redefinition of an existing one is refused.
  const touched = names.filter((n) => before.has(n) && after.has(n) && !same(before.get(n), after.get(n)));
  if (touched.length === 0) return;
  const wanted = await fileDefinitions(client, files);
  const redefined = touched.filter((n) => !same(after.get(n), wanted.get(n)));
  if (redefined.length > 0) throw new FunctionRedefinedError(migration, redefined);
}

/**
 * Brings every function with a file to its file, in one transaction (module header); returns
 * the names whose definition changed (none: nothing was committed). Call it under the
 * migration lock, after the migrations.
 */
export async function deployFunctions(
  client: Client,
  files: readonly FunctionFile[],
  log: (line: string) => void = () => {},
): Promise<string[]> {
  if (files.length === 0) return [];
  const names = files.map((f) => f.name);
  await client.query('BEGIN');
  try {
    const before = await functionDefinitions(client, names);
    await runFiles(client, files);
    const after = await functionDefinitions(client, names);
    const overloaded = names.filter((n) => (after.get(n) ?? []).length !== 1);
    if (overloaded.length > 0) {
      throw new Error(
        `${overloaded.map((n) => `${n} (${(after.get(n) ?? []).length} definitions)`).join(', ')}: each file must define exactly one function of its name; ` +
          'a new signature needs a migration that DROPs the old one',
      );
    }
    const changed = names.filter((n) => !same(before.get(n), after.get(n)));
    await client.query(changed.length > 0 ? 'COMMIT' : 'ROLLBACK');
    for (const n of changed)
      log(`function ${n}: ${before.has(n) ? 'replaced by' : 'created from'} prisma/functions/${n}.sql`);
    return changed;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
