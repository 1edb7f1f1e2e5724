/**
 * API keys and the admin audit log on MySQL/MariaDB (issue 22): data/keys/api-keys.ts and
 * data/keys/audit.ts with the same contract, on `api_keys` and `admin_audit` (migration
 * 0050_ops). A key's scopes are a JSON array (PostgreSQL's TEXT[]); the audit log is
 * append-only for the service user (SELECT, INSERT: prisma/mysql-roles.ts) and, by its
 * triggers, for the owner too.
 */
import type { Pool } from 'mariadb';
import type { AdminRequest, ApiKeyView, NewKey, Scope, StoredKey } from '../../domain/api-keys';
import { jsonValue } from './tx';

type Row = {
  id: string;
  name: string;
  scopes: unknown;
  created_at: Date;
  created_by: string;
  expires_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
};

const COLUMNS = 'id, name, scopes, created_at, created_by, expires_at, revoked_at, revoked_by';

function view(row: Row): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    scopes: jsonValue(row.scopes) as Scope[],
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    expiresAt: row.expires_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
    revokedBy: row.revoked_by,
  };
}

/**
 * Stores a key whose id and secret hash the caller made (data/keys/api-keys.ts createKey). The
 * scopes are stored once each: the scope CHECK counts the known ones the array contains.
 */
export async function createKeyOnMariadb(
  pool: Pool,
  k: NewKey & { readonly id: string; readonly hash: string },
): Promise<ApiKeyView> {
  await pool.query('INSERT INTO api_keys (id, name, hash, scopes, expires_at, created_by) VALUES (?, ?, ?, ?, ?, ?)', [
    k.id,
    k.name,
    k.hash,
    JSON.stringify([...new Set(k.scopes)]),
    k.expiresAt ?? null,
    k.createdBy,
  ]);
  const [row] = await pool.query<Row[]>(`SELECT ${COLUMNS} FROM api_keys WHERE id = ?`, [k.id]);
  return view(row!);
}

/** Every key, newest first. */
export async function listKeysOnMariadb(pool: Pool): Promise<ApiKeyView[]> {
  return (await pool.query<Row[]>(`SELECT ${COLUMNS} FROM api_keys ORDER BY created_at DESC, id`)).map(view);
}

/** The names of the keys `ids` names (unknown ids left out). */
export async function keyNamesOnMariadb(pool: Pool, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await pool.query<{ id: string; name: string }[]>('SELECT id, name FROM api_keys WHERE id IN (?)', [
    [...ids],
  ]);
  return new Map(rows.map((k) => [k.id, k.name]));
}

/**
 * Revokes a key: the guarded UPDATE (`revoked_at IS NULL`) makes a second revoke change
 * nothing, and the read after it answers the first revoke (mechanism 5: no UPDATE … RETURNING).
 */
export async function revokeKeyOnMariadb(pool: Pool, id: string, revokedBy: string): Promise<ApiKeyView | undefined> {
  await pool.query(
    'UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP(3), revoked_by = ? WHERE id = ? AND revoked_at IS NULL',
    [revokedBy, id],
  );
  const [row] = await pool.query<Row[]>(`SELECT ${COLUMNS} FROM api_keys WHERE id = ?`, [id]);
  return row ? view(row) : undefined;
}

/** What verification needs of a key, if there is one. */
export async function findKeyOnMariadb(pool: Pool, id: string): Promise<StoredKey | undefined> {
  const [row] = await pool.query<{ hash: string; scopes: unknown; expires_at: Date | null; revoked_at: Date | null }[]>(
    'SELECT hash, scopes, expires_at, revoked_at FROM api_keys WHERE id = ?',
    [id],
  );
  return row
    ? {
        hash: row.hash,
        scopes: jsonValue(row.scopes) as Scope[],
        expiresAt: row.expires_at,
        revokedAt: row.revoked_at,
      }
    : undefined;
}

/** Whether an unrevoked, unexpired key carries `scope`: one statement (the auth plugin asks on requests). */
export async function liveKeyWithScopeOnMariadb(pool: Pool, scope: Scope): Promise<boolean> {
  const [row] = await pool.query<{ live: number }[]>(
    `SELECT EXISTS (SELECT 1 FROM api_keys
                     WHERE revoked_at IS NULL AND JSON_CONTAINS(scopes, JSON_QUOTE(?))
                       AND (expires_at IS NULL OR expires_at > CURRENT_TIMESTAMP(3))) AS live`,
    [scope],
  );
  return Number(row!.live) === 1;
}

/** One audit row (its own autocommit INSERT, before the admin change runs). */
export async function recordAdminRequestOnMariadb(pool: Pool, r: AdminRequest): Promise<void> {
  await pool.query('INSERT INTO admin_audit (actor, method, route, url, body) VALUES (?, ?, ?, ?, ?)', [
    r.actor,
    r.method,
    r.route,
    r.url,
    r.body === undefined || r.body === null ? null : JSON.stringify(r.body),
  ]);
}
