/**
 * Verifies the bearer key of a request without a PostgreSQL round trip on the hot path: a
 * key read from the database is kept in process memory for `cacheMs` (API_KEY_CACHE_SECONDS),
 * and a revocation evicts it at once on every process (platform/key-events.ts), so the cache
 * only ever delays a revocation when Redis cannot deliver the message, and by `cacheMs` at
 * most. The secret is checked against the stored hash on every request.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { findKey, hashSecret, type StoredKey } from '../../data/keys/api-keys';
import type { Db } from '../../data/db';
import { ALL_SCOPES, BOOTSTRAP_ACTOR, parseKey, Scope, type Principal } from '../../domain/api-keys';
import { DomainError, ErrorCode } from '../../domain/errors';

/** Entries beyond this are dropped wholesale: unknown ids sent at random must not grow memory. */
const MAX_ENTRIES = 10_000;

/** A stored key as the hot path needs it: its scopes as a set, built once per cache entry. */
interface Known extends StoredKey {
  readonly scopeSet: ReadonlySet<Scope>;
}

interface Entry {
  readonly key: Promise<Known | undefined>;
  readonly until: number;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** The key store cannot be read (PostgreSQL down): the caller may retry, nothing was done. */
function unavailable(err: unknown): never {
  throw new DomainError(ErrorCode.SERVICE_UNAVAILABLE, 'the API key cannot be verified right now; retry', {
    cause: String(err).slice(0, 200),
  });
}

/** How the bootstrap key (ADMIN_TOKEN) may be used: config `bootstrapKey`. */
export interface BootstrapPolicy {
  /** false: refused (401), as once real keys exist and ADMIN_TOKEN_ENABLED=false. */
  readonly enabled: boolean;
  /** true (production): scope `admin` only — enough to create real keys, never an order or /metrics. */
  readonly adminOnly: boolean;
}

export class KeyVerifier {
  private readonly cache = new Map<string, Entry>();
  private readonly bootstrap: Buffer;
  private readonly bootstrapPrincipal: Principal;

  constructor(
    private readonly db: Db,
    /** ADMIN_TOKEN: recorded as `bootstrap`; its scopes and whether it is accepted at all come from `policy`. */
    bootstrapToken: string,
    private readonly cacheMs: number,
    private readonly now: () => number = Date.now,
    private readonly policy: BootstrapPolicy = { enabled: true, adminOnly: false },
  ) {
    this.bootstrap = digest(bootstrapToken);
    this.bootstrapPrincipal = {
      keyId: BOOTSTRAP_ACTOR,
      scopes: new Set(policy.adminOnly ? [Scope.ADMIN] : ALL_SCOPES),
    };
  }

  /**
   * The caller of an `Authorization: Bearer <key>` header; 401 UNAUTHORIZED otherwise. One
   * hash per request: a token shaped like a key is checked against its stored hash, anything
   * else (or a key-shaped token no key has) against the bootstrap key.
   */
  async verify(authorization: string | undefined): Promise<Principal> {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    if (!token) throw new DomainError(ErrorCode.UNAUTHORIZED, 'this route needs "Authorization: Bearer <API key>"');
    const parsed = parseKey(token);
    const stored = parsed && (await this.lookup(parsed.id).catch(unavailable));
    if (!parsed || !stored) {
      // Digests: equal length whatever was sent, so the comparison leaks nothing.
      if (timingSafeEqual(digest(token), this.bootstrap)) {
        if (!this.policy.enabled)
          throw new DomainError(
            ErrorCode.UNAUTHORIZED,
            'the bootstrap key is switched off (ADMIN_TOKEN_ENABLED=false): use an API key',
          );
        return this.bootstrapPrincipal;
      }
      throw new DomainError(ErrorCode.UNAUTHORIZED, 'unknown API key');
    }
    if (!timingSafeEqual(Buffer.from(hashSecret(parsed.secret), 'hex'), Buffer.from(stored.hash, 'hex'))) {
      throw new DomainError(ErrorCode.UNAUTHORIZED, 'unknown API key');
    }
    if (stored.revokedAt) throw new DomainError(ErrorCode.UNAUTHORIZED, 'this API key is revoked');
    if (stored.expiresAt && stored.expiresAt.getTime() <= this.now())
      throw new DomainError(ErrorCode.UNAUTHORIZED, 'this API key has expired');
    return { keyId: parsed.id, scopes: stored.scopeSet };
  }

  /**
   * The caller a console session names by key id (the session holds no secret): the key as
   * stored now, so a key revoked, expired or switched off since the sign-in ends the session.
   * 401 UNAUTHORIZED otherwise.
   */
  async principalOf(keyId: string): Promise<Principal> {
    if (keyId === BOOTSTRAP_ACTOR) {
      if (!this.policy.enabled)
        throw new DomainError(ErrorCode.UNAUTHORIZED, 'the bootstrap key is switched off (ADMIN_TOKEN_ENABLED=false)');
      return this.bootstrapPrincipal;
    }
    const stored = await this.lookup(keyId).catch(unavailable);
    if (!stored) throw new DomainError(ErrorCode.UNAUTHORIZED, 'unknown API key');
    if (stored.revokedAt) throw new DomainError(ErrorCode.UNAUTHORIZED, 'this API key is revoked');
    if (stored.expiresAt && stored.expiresAt.getTime() <= this.now())
      throw new DomainError(ErrorCode.UNAUTHORIZED, 'this API key has expired');
    return { keyId, scopes: stored.scopeSet };
  }

  /** Forgets one key (revoked here or elsewhere). */
  evict(keyId: string): void {
    this.cache.delete(keyId);
  }

  /** Forgets every key (revocations may have been missed). */
  clear(): void {
    this.cache.clear();
  }

  /** The stored key, from the cache while fresh; concurrent misses share one read. */
  private lookup(id: string): Promise<Known | undefined> {
    const hit = this.cache.get(id);
    if (hit && hit.until > this.now()) return hit.key;
    if (this.cache.size >= MAX_ENTRIES) this.cache.clear();
    const key = findKey(this.db, id).then((k) => k && { ...k, scopeSet: new Set(k.scopes) });
    const entry = { key, until: this.now() + this.cacheMs };
    this.cache.set(id, entry);
    // A failed read is not remembered: the next request tries the database again.
    key.catch(() => {
      if (this.cache.get(id) === entry) this.cache.delete(id);
    });
    return key;
  }
}
