/**
 * The one keyset cursor of every list (`limit`, `cursor` → `{ data, hasMore, nextCursor }`).
 *
 * A cursor is the sort key of the last row a page returned, opaque to callers:
 * `base64url(JSON [list, ...key]) + '.' + check`. The check (FNV-1a over the list's name and
 * the payload) makes an edited, truncated or borrowed cursor a clear 400 `INVALID_CURSOR`
 * rather than a silently different page; the list's name inside it refuses a cursor of another
 * list, and each key part is checked against the list's key shape before it reaches a query.
 * It is a position, not a credential: it grants nothing the list's own scope does not.
 *
 * Keyset, never OFFSET: a page starts strictly after the last key seen, so rows inserted while
 * a caller pages never shift the pages (each earlier row is returned exactly once).
 */
import { DomainError, ErrorCode } from './errors';

/** One part of a sort key: a text id, an integer (bigint ids travel as text), or an instant. */
export type KeyPart = 'text' | 'int' | 'instant';
export type KeyValue = string | number;

/** A page of a list, as every list route answers it. */
export interface Page<T> {
  readonly data: T[];
  readonly hasMore: boolean;
  /** Pass back as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** FNV-1a, 32 bits, as 8 hex digits: a check against edits, not a secret. */
function check(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

const toBase64Url = (text: string) =>
  btoa(String.fromCharCode(...new TextEncoder().encode(text)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

function fromBase64Url(text: string): string {
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

/** The cursor of `list` positioned after the row whose sort key is `key`. */
export function encodeCursor(list: string, key: readonly KeyValue[]): string {
  const payload = toBase64Url(JSON.stringify([list, ...key]));
  return `${payload}.${check(`${list}|${payload}`)}`;
}

const invalid = (list: string, why: string) =>
  new DomainError(
    ErrorCode.INVALID_CURSOR,
    `cursor is not one this list (${list}) handed out: ${why}; start again without it`,
  );

/**
 * The sort key inside `cursor`, checked against `list` and its `shape`; throws 400
 * INVALID_CURSOR for anything else.
 */
export function decodeCursor(list: string, cursor: string, shape: readonly KeyPart[]): KeyValue[] {
  const dot = cursor.lastIndexOf('.');
  if (dot <= 0) throw invalid(list, 'malformed');
  const payload = cursor.slice(0, dot);
  if (cursor.slice(dot + 1) !== check(`${list}|${payload}`)) throw invalid(list, 'check failed');
  let parts: unknown;
  try {
    parts = JSON.parse(fromBase64Url(payload));
  } catch {
    throw invalid(list, 'malformed');
  }
  if (!Array.isArray(parts) || parts[0] !== list) throw invalid(list, 'from another list');
  const key = parts.slice(1) as unknown[];
  if (key.length !== shape.length) throw invalid(list, 'wrong key');
  key.forEach((value, i) => {
    const ok =
      shape[i] === 'int'
        ? typeof value === 'string' && /^-?\d{1,19}$/.test(value)
        : shape[i] === 'instant'
          ? typeof value === 'string' && ISO_INSTANT.test(value) && !Number.isNaN(Date.parse(value))
          : typeof value === 'string';
    if (!ok) throw invalid(list, 'wrong key');
  });
  return key as KeyValue[];
}

/**
 * A page from rows read with `limit + 1` (the extra row only says there is more): the first
 * `limit` rows, and the cursor after the last of them.
 */
export function toPage<R, T>(
  list: string,
  rows: readonly R[],
  limit: number,
  keyOf: (row: R) => KeyValue[],
  view: (row: R) => T,
): Page<T> {
  const hasMore = rows.length > limit;
  const shown = rows.slice(0, limit);
  const last = shown[shown.length - 1];
  return {
    data: shown.map(view),
    hasMore,
    nextCursor: hasMore && last !== undefined ? encodeCursor(list, keyOf(last)) : null,
  };
}

/** The default and largest page size of every list. */
export const PAGE_LIMIT = { default: 50, max: 500 } as const;
