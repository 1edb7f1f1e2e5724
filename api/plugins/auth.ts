/**
 * Who may call what. Every route declares `config.access`: a scope, or 'public' (health
 * probes; the payment webhook, which checks its own HMAC signature). A route that declares
 * nothing stops the app from building, so no route is left open by omission. From that one
 * declaration come the route's guard (401 UNAUTHORIZED without a valid key, 403 FORBIDDEN
 * with a key lacking the scope) and its OpenAPI `security` and 401/403 responses.
 *
 * With an ops port (OPS_PORT), `ops` routes (/metrics, /docs) answer there without a key and
 * are not found on the main port; on the ops port every other route but the public ones
 * (the probes) is not found.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import http from 'node:http';
import fp from 'fastify-plugin';
import type {
  FastifyInstance,
  FastifyRequest,
  onRequestAsyncHookHandler,
  onRequestHookHandler,
  RouteOptions,
} from 'fastify';
import { Scope, type Access, type Principal } from '../../domain/api-keys';
import { liveKeyWithScope } from '../../data/keys/api-keys';
import { DomainError, ErrorCode } from '../../domain/errors';
import { subscribeRevocations } from '../../platform/key-events';
import { KeyVerifier } from '../auth/verifier';
import { ErrorBody } from '../schemas';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route (api/plugins/auth.ts). */
    access?: Access;
  }
  interface FastifyRequest {
    /** The verified caller; undefined on public routes and on the ops port. */
    principal?: Principal;
  }
  interface FastifyInstance {
    /**
     * The guard of `access`, for routes registered by other plugins (the docs UI). Typed
     * callback-style because @fastify/swagger-ui's uiHooks accept only that type; it is async,
     * and the route's onRequest, to which swagger-ui hands it, awaits it.
     */
    guard(access: Access): onRequestHookHandler;
    /** This process's key verifier (evict a key revoked here). */
    keys: KeyVerifier;
  }
}

/** The OpenAPI security scheme every key-protected operation names. */
export const SECURITY_SCHEME = 'apiKey';

const viaOps = new WeakSet<IncomingMessage>();

/** A listener for the ops port that hands its requests to `app`, marked as arriving there. */
export function createOpsServer(app: FastifyInstance): Server {
  return http.createServer((req: IncomingMessage, res: ServerResponse) => {
    viaOps.add(req);
    app.routing(req, res);
  });
}

/** Whether `request` arrived on the ops port (a listener made by createOpsServer). */
export function onOpsPort(request: FastifyRequest): boolean {
  return viaOps.has(request.raw);
}

const notFound = (request: FastifyRequest) =>
  new DomainError(ErrorCode.NOT_FOUND, `no route ${request.method} ${request.url}`);

export default fp(async function auth(app) {
  const { config, db } = app.deps;
  const verifier = new KeyVerifier(db, config.adminToken, config.apiKeyCacheMs, Date.now, config.bootstrapKey);
  let revocations: { close(): void } | undefined;
  app.addHook('onReady', async () => {
    // Switched off with no real admin key left, nobody can create keys over HTTP: say so (`npm run keys` still can).
    if (!config.bootstrapKey.enabled && !(await liveKeyWithScope(db, Scope.ADMIN).catch(() => true))) {
      app.log.warn(
        'ADMIN_TOKEN_ENABLED=false and no live API key has scope admin: create one with npm run keys -- create --scopes admin',
      );
    }
    revocations = subscribeRevocations(config.redisUrl, config.cache.connectTimeoutMs, {
      revoked: (id) => verifier.evict(id),
      resync: () => verifier.clear(),
    });
  });
  app.addHook('onClose', async () => revocations?.close());
  app.decorate('keys', verifier);
  app.decorateRequest('principal', undefined);
  // Whether ops routes live on the ops port (and not behind the `ops` scope).
  const opsPort = config.api.ops !== undefined;

  function guard(access: Access): onRequestAsyncHookHandler {
    return async function accessGuard(request) {
      const onOpsPort = viaOps.has(request.raw);
      if (access === 'console') throw new Error('console routes are guarded by their session (api/routes/console)');
      if (opsPort && access === 'ops') {
        if (!onOpsPort) throw notFound(request);
        return;
      }
      if (onOpsPort && access !== 'public') throw notFound(request);
      if (access === 'public') return;
      const principal = await verifier.verify(request.headers.authorization);
      const anyOf: readonly Scope[] = typeof access === 'string' ? [access] : access;
      if (!anyOf.some((scope) => principal.scopes.has(scope))) {
        const named = anyOf.map((s) => `"${s}"`).join(' or ');
        throw new DomainError(ErrorCode.FORBIDDEN, `this API key lacks the scope ${named}`, {
          required: typeof access === 'string' ? access : anyOf,
        });
      }
      request.principal = principal;
    };
  }
  app.decorate('guard', guard);
  const notOnOpsPort: onRequestAsyncHookHandler = async (request) => {
    if (viaOps.has(request.raw)) throw notFound(request);
  };

  app.addHook('onRoute', (route) => {
    const access = route.config?.access;
    // The console checks its own session cookie (api/routes/console); here only: never on the
    // ops port, whose requests carry no key, and never in the API's OpenAPI document.
    if (access === 'console') {
      route.onRequest = [notOnOpsPort, ...[route.onRequest ?? []].flat()];
      route.schema = { ...route.schema, hide: true };
      return;
    }
    // The docs UI's own routes (hidden from the document) come guarded through app.guard.
    if (route.schema?.hide) return;
    if (!access)
      throw new Error(`${String(route.method)} ${route.url} declares no config.access (a scope, or 'public')`);
    if (access === 'public' && !opsPort) return;
    route.onRequest = [guard(access), ...[route.onRequest ?? []].flat()];
    if (access !== 'public' && !(opsPort && access === 'ops')) route.schema = documented(route.schema ?? {}, access);
  });
});

/** The route's OpenAPI operation: the key it needs, and the 401/403 it may answer. */
function documented(schema: NonNullable<RouteOptions['schema']>, access: Access): NonNullable<RouteOptions['schema']> {
  const scopes = typeof access === 'string' ? [access] : [...access];
  const needs = `Needs an API key with scope ${scopes.map((s) => `\`${s}\``).join(' or ')}.`;
  const s = schema as { description?: string; response?: Record<string, unknown> };
  return {
    ...schema,
    description: s.description ? `${s.description}\n\n${needs}` : needs,
    security: [{ [SECURITY_SCHEME]: [] }],
    'x-scopes': scopes,
    response: { ...s.response, 401: ErrorBody, 403: ErrorBody },
  } as NonNullable<RouteOptions['schema']>;
}
