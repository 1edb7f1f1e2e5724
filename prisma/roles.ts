/**
 * Least privilege: the service connects as its own role (DATABASE_URL's user, `stockhold_app`
 * by default), never as the owner of the schema. The owner (MIGRATION_DATABASE_URL's user)
 * runs the migrations and then brings the service role's privileges to exactly this policy:
 *
 *  - SELECT, INSERT, UPDATE, DELETE on the tables, except
 *  - SELECT, INSERT only on the append-only tables (the ledger `stock_movements`, the
 *    idempotency fences `operation_fences`, what came back `return_lines`, and any table a migration gives an
 *    `*append_only*` trigger): history cannot be rewritten, even by a bug or an intruder
 *    with the service's credentials;
 *  - no TRUNCATE, REFERENCES or TRIGGER anywhere, nothing on `_prisma_migrations`;
 *  - USAGE, SELECT on the sequences, EXECUTE on the functions (`stockhold_hold_batch`, …);
 *  - default privileges, so tables created by later migrations are covered from the start.
 *
 * The role is never a superuser (it cannot SET session_replication_role to skip the ledger's
 * trigger) and owns nothing (it cannot ALTER TABLE … DISABLE TRIGGER, DROP or TRUNCATE).
 *
 * CLI: `npm run db:roles` — creates the service role if it is missing and the owner may
 * (CREATEROLE; locally the superuser), then applies the policy. `prisma/migrate.ts` does the
 * same after every run. On a managed PostgreSQL, create the roles once as the administrator
 * (scripts/db-roles.sql, docs/security.md).
 */
import type { Client } from 'pg';

/** Tables the service may only read and append to, whatever their triggers say. */
export const APPEND_ONLY_TABLES = ['stock_movements', 'operation_fences', 'return_lines'] as const;

/** The role a connection URL logs in as. */
export function roleOf(url: string): string {
  const user = decodeURIComponent(new URL(url).username);
  if (!user) throw new Error(`no user in ${redact(url)}: name the role in the URL (postgresql://<role>@host/db)`);
  return user;
}

/** A URL without its password, for messages. */
export function redact(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}

/** The service URL with another role (and no password): tests derive the service role's URL from the owner's. */
export function asRole(url: string, role: string): string {
  const parsed = new URL(url);
  parsed.username = encodeURIComponent(role);
  parsed.password = '';
  return parsed.toString();
}

interface RoleRow {
  rolsuper: boolean;
  rolbypassrls: boolean;
  rolcreaterole: boolean;
  rolcreatedb: boolean;
}

/**
 * Creates the service role when missing: LOGIN, with the password the service URL carries (if
 * any), and no attribute beyond that. An existing role is left as it is (its password too),
 * with a warning when it is privileged.
 */
export async function ensureServiceRole(
  owner: Client,
  serviceUrl: string,
  log: (line: string) => void = () => {},
): Promise<void> {
  const role = roleOf(serviceUrl);
  const found = await owner.query<RoleRow>(
    'SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = $1',
    [role],
  );
  const existing = found.rows[0];
  if (existing) {
    const extra = (['rolsuper', 'rolbypassrls', 'rolcreaterole', 'rolcreatedb'] as const).filter((k) => existing[k]);
    if (extra.length > 0)
      log(`warning: the service role ${role} has ${extra.join(', ')}: least privilege is not in effect`);
    return;
  }
  const password = decodeURIComponent(new URL(serviceUrl).password);
  const sql =
    `CREATE ROLE ${owner.escapeIdentifier(role)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS` +
    (password ? ` PASSWORD ${owner.escapeLiteral(password)}` : '');
  try {
    await owner.query(sql);
    log(`created the service role ${role}`);
  } catch (err) {
    const code = (err as { code?: string }).code;
    // Created meanwhile by a parallel run (another database of the same cluster).
    if (code === '42710' || code === '23505') return;
    if (code === '42501') {
      throw new Error(
        `the service role "${role}" does not exist and the migration role may not create it: create it as an administrator (scripts/db-roles.sql, docs/security.md)`,
      );
    }
    throw err;
  }
}

/** Tables the policy keeps append-only: the fixed list, and every table with an `*append_only*` trigger. */
async function appendOnlyTables(owner: Client): Promise<string[]> {
  const { rows } = await owner.query<{ table: string }>(`
    SELECT DISTINCT c.relname AS table
      FROM pg_trigger t
      JOIN pg_class c ON c.oid = t.tgrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_proc p ON p.oid = t.tgfoid
     WHERE n.nspname = 'public' AND NOT t.tgisinternal AND p.proname LIKE '%append_only%'`);
  const present = await owner.query<{ table: string }>(
    `SELECT tablename AS table FROM pg_tables WHERE schemaname = 'public' AND tablename = ANY($1::text[])`,
    [[...APPEND_ONLY_TABLES]],
  );
  return [...new Set([...present.rows.map((r) => r.table), ...rows.map((r) => r.table)])].sort();
}

/**
 * Brings the service role's privileges in the owner's database to the policy above, in one
 * transaction (no moment where it holds more). Run as the owner of the tables.
 */
export async function grantServiceRole(
  owner: Client,
  serviceUrl: string,
  log: (line: string) => void = () => {},
): Promise<void> {
  const role = owner.escapeIdentifier(roleOf(serviceUrl));
  const database = owner.escapeIdentifier(
    (await owner.query<{ db: string }>('SELECT current_database() AS db')).rows[0].db,
  );
  const appendOnly = await appendOnlyTables(owner);
  await owner.query('BEGIN');
  try {
    await owner.query(`GRANT CONNECT ON DATABASE ${database} TO ${role}`);
    await owner.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
    await owner.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}`);
    await owner.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`);
    for (const table of appendOnly)
      await owner.query(`REVOKE UPDATE, DELETE ON ${owner.escapeIdentifier(table)} FROM ${role}`);
    await owner.query(`REVOKE ALL ON TABLE "_prisma_migrations" FROM ${role}`);
    await owner.query(`REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${role}`);
    await owner.query(`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`);
    await owner.query(`GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO ${role}`);
    // Later migrations' objects (created by this owner) start with the same privileges; the
    // next run revokes UPDATE/DELETE again from any new append-only table.
    await owner.query(
      `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${role}`,
    );
    await owner.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${role}`);
    await owner.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO ${role}`);
    await owner.query('COMMIT');
  } catch (err) {
    await owner.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  // Before PostgreSQL 15 every role may create tables in `public`: the service role must not.
  const creates = await owner.query<{ can: boolean }>(`SELECT has_schema_privilege($1, 'public', 'CREATE') AS can`, [
    roleOf(serviceUrl),
  ]);
  if (creates.rows[0].can) {
    await owner.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`).catch(() => undefined);
    await owner.query(`REVOKE CREATE ON SCHEMA public FROM ${role}`).catch(() => undefined);
    const still = await owner.query<{ can: boolean }>(`SELECT has_schema_privilege($1, 'public', 'CREATE') AS can`, [
      roleOf(serviceUrl),
    ]);
    if (still.rows[0].can)
      log(`warning: ${roleOf(serviceUrl)} may still CREATE in schema public (revoke it as the schema's owner)`);
  }
  log(`service role ${roleOf(serviceUrl)}: DML on the tables, append-only on ${appendOnly.join(', ')}`);
}

/** Creates (if needed and allowed) and grants the service role, unless it is the owner itself. */
export async function applyServiceRole(
  owner: Client,
  serviceUrl: string,
  log: (line: string) => void = () => {},
): Promise<void> {
  const current = (await owner.query<{ me: string }>('SELECT current_user AS me')).rows[0].me;
  const role = roleOf(serviceUrl);
  if (role === current) {
    log(`warning: the service connects as the owner ${role}: least privilege is not in effect (docs/security.md)`);
    return;
  }
  await ensureServiceRole(owner, serviceUrl, log);
  await grantServiceRole(owner, serviceUrl, log);
}
