/**
 * Least privilege on MySQL/MariaDB (docs/mysql.md#roles-and-grants): the policy of
 * prisma/roles.ts, granted per table because MySQL privileges are additive (a database-wide
 * UPDATE would cover the ledger, and no REVOKE can carve a table out of it):
 *
 *  - SELECT, INSERT, UPDATE, DELETE on each table, except
 *  - SELECT, INSERT only on the append-only tables (APPEND_ONLY_TABLES: the ledger, the
 *    fences, return lines; and, as on PostgreSQL, any table a migration gives an
 *    `*append_only*` trigger, such as `admin_audit`);
 *  - SELECT, UPDATE only on `stockhold_key_locks` (its rows are the named locks: a deleted
 *    slot would be a lock that locks nothing);
 *  - EXECUTE on each procedure (they run as their definer, the owner);
 *  - nothing on `_stockhold_mysql_steps`, no DDL, TRIGGER, GRANT OPTION.
 *
 * Each table's privileges are revoked first, so what the user holds is exactly the policy.
 * The user is created (`'<user>'@'%'`, with the URL's password if any) when missing and the
 * owner may; an existing one keeps its password.
 */
import type { Connection } from 'mariadb';
import { APPEND_ONLY_TABLES, roleOf } from './roles';

/** The named locks' slots (docs/mysql.md, mechanism 1). */
const KEY_LOCKS = 'stockhold_key_locks';

/** Error 1141/1147: the user holds no privilege there to revoke. */
const NO_SUCH_GRANT = new Set([1141, 1147]);

/** Brings the service user's privileges on the owner's current database to the policy. */
export async function applyMysqlServiceRole(
  owner: Connection,
  serviceUrl: string,
  log: (line: string) => void = () => {},
): Promise<void> {
  const user = roleOf(serviceUrl);
  const password = decodeURIComponent(new URL(serviceUrl).password);
  const account = `${owner.escape(user)}@'%'`;
  await owner.query(
    `CREATE USER IF NOT EXISTS ${account}${password ? ` IDENTIFIED BY ${owner.escape(password)}` : ''}`,
  );
  const [{ db }] = await owner.query<{ db: string }[]>('SELECT DATABASE() AS db');
  const schema = owner.escapeId(db);
  const tables = (
    await owner.query<{ name: string }[]>(
      `SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE' ORDER BY table_name`,
    )
  ).map((r) => r.name);
  const guarded = await owner.query<{ name: string }[]>(
    `SELECT DISTINCT event_object_table AS name FROM information_schema.triggers
      WHERE trigger_schema = DATABASE() AND trigger_name LIKE '%append\\_only%'`,
  );
  const appendOnly = new Set<string>([...APPEND_ONLY_TABLES, ...guarded.map((r) => r.name)]);
  for (const table of tables) {
    const target = `${schema}.${owner.escapeId(table)}`;
    await owner.query(`REVOKE ALL PRIVILEGES ON ${target} FROM ${account}`).catch((err: { errno?: number }) => {
      if (!NO_SUCH_GRANT.has(err.errno ?? 0)) throw err;
    });
    if (table.startsWith('_')) continue;
    const privileges = appendOnly.has(table)
      ? 'SELECT, INSERT'
      : table === KEY_LOCKS
        ? 'SELECT, UPDATE'
        : 'SELECT, INSERT, UPDATE, DELETE';
    await owner.query(`GRANT ${privileges} ON ${target} TO ${account}`);
  }
  const procedures = await owner.query<{ name: string }[]>(
    `SELECT routine_name AS name FROM information_schema.routines
      WHERE routine_schema = DATABASE() AND routine_type = 'PROCEDURE' ORDER BY routine_name`,
  );
  for (const { name } of procedures) {
    await owner.query(`GRANT EXECUTE ON PROCEDURE ${schema}.${owner.escapeId(name)} TO ${account}`);
  }
  log(`service user ${user}: grants on ${tables.length} tables and ${procedures.length} procedures`);
}
