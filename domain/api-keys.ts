/**
 * API keys: what a caller presents (`sk_<id>_<secret>`), the scopes a key carries, and who
 * acted. Pure: the store (data/keys/api-keys.ts) and the API's guard build on it.
 */

/** What a key may do; docs/security.md lists the routes behind each. */
export const Scope = {
  /** Place, read and cancel orders, plain and flash-sale: the shop's order service. */
  ORDERS: 'orders',
  /** Read stock (GET /inventory) and stock alerts. */
  INVENTORY_READ: 'inventory:read',
  /** Run flash sales and pre-sales: create, inspect, end, fulfil. */
  CAMPAIGNS: 'campaigns',
  /** Stock changes, catalogue, transfers, reconciliation, cache checks, API keys. */
  ADMIN: 'admin',
  /** /metrics and /docs (when no ops port is configured). */
  OPS: 'ops',
  /** Read the event feed (GET /events): the storefront, the search index, the ERP. */
  EVENTS: 'events',
} as const;
export type Scope = (typeof Scope)[keyof typeof Scope];

export const ALL_SCOPES: readonly Scope[] = Object.values(Scope);

/**
 * Who may call a route: a scope, any one of several scopes, anyone (health probes, the
 * HMAC-signed payment webhook), or `console`: the operator console's pages, whose signed
 * session cookie (from a key with scope `ops` or `admin`) the console checks itself; never
 * served on the ops port.
 */
export type Access = Scope | readonly Scope[] | 'public' | 'console';

/** The caller of a request, once its key is verified. */
export interface Principal {
  /** The key id, or `bootstrap` for ADMIN_TOKEN; recorded as the actor of what it changes. */
  readonly keyId: string;
  readonly scopes: ReadonlySet<Scope>;
}

/** The actor recorded for the bootstrap key (ADMIN_TOKEN). */
export const BOOTSTRAP_ACTOR = 'bootstrap';

const KEY_FORMAT = /^sk_([0-9a-f]{16})_([A-Za-z0-9_-]{32,128})$/;

/** The id and secret of a presented key, or undefined when it is not in the key format. */
export function parseKey(token: string): { id: string; secret: string } | undefined {
  const m = KEY_FORMAT.exec(token);
  return m ? { id: m[1], secret: m[2] } : undefined;
}

export function formatKey(id: string, secret: string): string {
  return `sk_${id}_${secret}`;
}

/** Scopes from a list such as `orders,inventory:read`; throws on an unknown one. */
export function parseScopes(list: string): Scope[] {
  const names = [
    ...new Set(
      list
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  const unknown = names.filter((n) => !(ALL_SCOPES as readonly string[]).includes(n));
  if (unknown.length > 0) throw new Error(`unknown scope ${unknown.join(', ')} (known: ${ALL_SCOPES.join(', ')})`);
  if (names.length === 0) throw new Error(`a key needs at least one scope (${ALL_SCOPES.join(', ')})`);
  return names as Scope[];
}

/** Milliseconds in `30d`, `12h`, `90m`; throws on anything else. */
export function parseLifetime(text: string): number {
  const m = /^(\d+)(m|h|d)$/.exec(text.trim());
  if (!m || Number(m[1]) === 0) throw new Error(`expected a lifetime like 30d, 12h or 90m, got "${text}"`);
  return Number(m[1]) * { m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'm' | 'h' | 'd'];
}

/** A key as stored, without its hash (data/keys/api-keys.ts, on either store). */
export interface ApiKeyView {
  readonly id: string;
  readonly name: string;
  readonly scopes: Scope[];
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string | null;
  readonly revokedAt: string | null;
  readonly revokedBy: string | null;
}

/** What verification needs of a key. */
export interface StoredKey {
  readonly hash: string;
  readonly scopes: readonly Scope[];
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
}

export interface NewKey {
  readonly name: string;
  readonly scopes: readonly Scope[];
  readonly expiresAt?: Date;
  /** Who creates it: a key id, `bootstrap`, or `cli`. */
  readonly createdBy: string;
}

/** One admin request as the audit log records it (data/keys/audit.ts). */
export interface AdminRequest {
  /** Key id, or `bootstrap`. */
  readonly actor: string;
  readonly method: string;
  /** The route pattern, e.g. /transfers/:transferId/ship. */
  readonly route: string;
  readonly url: string;
  readonly body?: unknown;
}
