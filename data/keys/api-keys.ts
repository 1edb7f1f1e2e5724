/**
 * API keys in PostgreSQL: created with a random id and secret (the secret shown once, only its
 * sha256 kept), listed, revoked (never deleted). Verification with its cache is api/auth/.
 * On MySQL/MariaDB each function hands over to data/mariadb/keys.ts (same contract).
 */
import { createHash, randomBytes } from 'node:crypto';
import { formatKey, type ApiKeyView, type NewKey, type Scope, type StoredKey } from '../../domain/api-keys';
import type { Db } from '../db';
import { mariadbOf } from '../mariadb/db';
import {
  createKeyOnMariadb,
  findKeyOnMariadb,
  keyNamesOnMariadb,
  listKeysOnMariadb,
  liveKeyWithScopeOnMariadb,
  revokeKeyOnMariadb,
} from '../mariadb/keys';

export type { ApiKeyView, NewKey, StoredKey } from '../../domain/api-keys';

/**
 * sha256 of the secret. Enough because the secret is 192 random bits, not a password: no
 * dictionary to try, and 2^192 guesses are out of reach; a slow hash (bcrypt, argon2) would
 * only add its cost to every verification without making a leaked hash any safer.
 */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

type Row = {
  id: string;
  name: string;
  scopes: string[];
  createdAt: Date;
  createdBy: string;
  expiresAt: Date | null;
  revokedAt: Date | null;
  revokedBy: string | null;
};

function view(row: Row): ApiKeyView {
  return {
    id: row.id,
    name: row.name,
    scopes: row.scopes as Scope[],
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
    expiresAt: row.expiresAt?.toISOString() ?? null,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    revokedBy: row.revokedBy,
  };
}

const columns = {
  id: true,
  name: true,
  scopes: true,
  createdAt: true,
  createdBy: true,
  expiresAt: true,
  revokedAt: true,
  revokedBy: true,
} as const;

/** Creates a key; the answer's `key` is the only time the secret exists outside the caller. */
export async function createKey(db: Db, k: NewKey): Promise<ApiKeyView & { key: string }> {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  const maria = mariadbOf(db);
  if (maria) {
    const created = await createKeyOnMariadb(maria, { ...k, id, hash: hashSecret(secret) });
    return { ...created, key: formatKey(id, secret) };
  }
  const row = await db.apiKey.create({
    data: {
      id,
      name: k.name,
      hash: hashSecret(secret),
      scopes: [...k.scopes],
      expiresAt: k.expiresAt ?? null,
      createdBy: k.createdBy,
    },
    select: columns,
  });
  return { ...view(row), key: formatKey(id, secret) };
}

/** Every key, newest first (revoked and expired ones too: they are the history). */
export async function listKeys(db: Db): Promise<ApiKeyView[]> {
  const maria = mariadbOf(db);
  if (maria) return listKeysOnMariadb(maria);
  return (await db.apiKey.findMany({ orderBy: { createdAt: 'desc' }, select: columns })).map(view);
}

/** The names of the keys `ids` names (unknown ids are left out), for showing who did something. */
export async function keyNames(db: Db, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const maria = mariadbOf(db);
  if (maria) return keyNamesOnMariadb(maria, ids);
  const rows = await db.apiKey.findMany({ where: { id: { in: [...ids] } }, select: { id: true, name: true } });
  return new Map(rows.map((k) => [k.id, k.name]));
}

/**
 * Revokes a key (a second revoke changes nothing and answers the first); undefined when there
 * is no such key. Callers then tell every API process (platform/key-events.ts).
 */
export async function revokeKey(db: Db, id: string, revokedBy: string): Promise<ApiKeyView | undefined> {
  const maria = mariadbOf(db);
  if (maria) return revokeKeyOnMariadb(maria, id, revokedBy);
  await db.apiKey.updateMany({ where: { id, revokedAt: null }, data: { revokedAt: new Date(), revokedBy } });
  const row = await db.apiKey.findUnique({ where: { id }, select: columns });
  return row ? view(row) : undefined;
}

/** The stored key with this id, if any. */
export async function findKey(db: Db, id: string): Promise<StoredKey | undefined> {
  const maria = mariadbOf(db);
  if (maria) return findKeyOnMariadb(maria, id);
  const row = await db.apiKey.findUnique({
    where: { id },
    select: { hash: true, scopes: true, expiresAt: true, revokedAt: true },
  });
  return row
    ? { hash: row.hash, scopes: row.scopes as Scope[], expiresAt: row.expiresAt, revokedAt: row.revokedAt }
    : undefined;
}

/** Whether an unrevoked, unexpired key carries `scope` (the bootstrap key may be switched off only then). */
export async function liveKeyWithScope(db: Db, scope: Scope): Promise<boolean> {
  const maria = mariadbOf(db);
  if (maria) return liveKeyWithScopeOnMariadb(maria, scope);
  const live = await db.apiKey.count({
    where: { revokedAt: null, scopes: { has: scope }, OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }] },
  });
  return live > 0;
}
