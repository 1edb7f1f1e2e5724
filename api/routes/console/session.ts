/**
 * The console's session: after a sign-in with an API key, a cookie naming the key (its id,
 * never its secret) and when the session ends, signed with CONSOLE_SESSION_SECRET (HttpOnly,
 * SameSite=Strict, Secure over HTTPS). Every request reads the key as stored now
 * (KeyVerifier.principalOf), so revoking the key ends its sessions at once. `ops` reads,
 * `admin` reads and acts.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { Scope, type Principal } from '../../../domain/api-keys';
import { DomainError, ErrorCode } from '../../../domain/errors';

export const SESSION_COOKIE = 'stockhold_console';
export const CONSOLE_PATH = '/console';

/** What a console page needs of its caller: to read (`ops` or `admin`) or to act (`admin`). */
export const Need = { READ: 'read', ACT: 'act' } as const;
export type Need = (typeof Need)[keyof typeof Need];

const READERS: readonly Scope[] = [Scope.OPS, Scope.ADMIN];

/** Whether `principal` may do what `need` says. */
export function allowed(principal: Principal, need: Need): boolean {
  return need === Need.ACT ? principal.scopes.has(Scope.ADMIN) : READERS.some((s) => principal.scopes.has(s));
}

/** Starts a session for `principal` (its key verified just now). */
export function startSession(reply: FastifyReply, principal: Principal, hours: number): void {
  const until = Date.now() + hours * 3_600_000;
  void reply.setCookie(SESSION_COOKIE, `${principal.keyId}.${until}`, {
    signed: true,
    httpOnly: true,
    sameSite: 'strict',
    secure: 'auto',
    path: CONSOLE_PATH,
    expires: new Date(until),
  });
}

export function endSession(reply: FastifyReply): void {
  void reply.clearCookie(SESSION_COOKIE, { path: CONSOLE_PATH });
}

/** The key id of a valid, unexpired session cookie, or undefined. */
function sessionKeyId(request: FastifyRequest): string | undefined {
  const raw = request.cookies[SESSION_COOKIE];
  if (!raw) return undefined;
  const { valid, value } = request.unsignCookie(raw);
  const m = valid && value ? /^([A-Za-z0-9_-]{1,64})\.(\d{1,16})$/.exec(value) : null;
  if (!m || Number(m[2]) <= Date.now()) return undefined;
  return m[1];
}

/**
 * The guard of a console route: 401 UNAUTHORIZED without a valid session (a page sends the
 * browser to the sign-in), 403 FORBIDDEN when its key lacks what `need` asks.
 */
export function requireSession(app: FastifyInstance, need: Need): preHandlerAsyncHookHandler {
  return async function consoleSession(request) {
    const keyId = sessionKeyId(request);
    if (!keyId) throw new DomainError(ErrorCode.UNAUTHORIZED, 'sign in to the console with an API key');
    const principal = await app.keys.principalOf(keyId);
    if (!allowed(principal, need)) {
      const named = need === Need.ACT ? '"admin"' : '"ops" or "admin"';
      throw new DomainError(ErrorCode.FORBIDDEN, `this API key lacks the scope ${named}`, {
        required: need === Need.ACT ? [Scope.ADMIN] : READERS,
      });
    }
    request.principal = principal;
  };
}
