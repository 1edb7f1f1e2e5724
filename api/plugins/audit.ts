/**
 * The admin audit log: every request to an `admin` or `campaigns` route other than a read is
 * recorded (who, which route, the body) once it passed authentication and validation, and
 * before its handler runs, in the append-only `admin_audit` table. So no admin change happens
 * without a row naming its actor; a request that is then refused leaves its row too (its
 * answer is in the request log). Registered before the routes: it reads their declared access.
 */
import fp from 'fastify-plugin';
import type { preHandlerAsyncHookHandler } from 'fastify';
import { recordAdminRequest } from '../../data/keys/audit';
import { Scope } from '../../domain/api-keys';

const AUDITED: ReadonlySet<string> = new Set([Scope.ADMIN, Scope.CAMPAIGNS]);

export default fp(async function audit(app) {
  const { db } = app.deps;
  const record: preHandlerAsyncHookHandler = async (request) => {
    const { method, url, body } = request;
    await recordAdminRequest(db, {
      actor: request.principal!.keyId,
      method,
      route: request.routeOptions.url ?? url,
      url,
      body,
    });
  };
  app.addHook('onRoute', (route) => {
    const methods = [route.method].flat();
    const access = route.config?.access ?? [];
    // A route open to several scopes (event subscriptions: `events` or `admin`) is audited when one of them is.
    if (![access].flat().some((scope) => AUDITED.has(scope)) || methods.every((m) => m === 'GET' || m === 'HEAD'))
      return;
    route.preHandler = [...[route.preHandler ?? []].flat(), record];
  });
});
