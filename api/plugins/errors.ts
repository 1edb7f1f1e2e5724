/**
 * The one error handler: every failure leaves as `{ code, message, details? }` with the
 * status the error table gives. Bad input is always a 4xx, never a 5xx — including what only
 * PostgreSQL could judge (data/data-errors.ts), a method a known path does not
 * have (405 with `Allow`), and what the router refuses before any route runs.
 */
import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { asDataError } from '../../data/data-errors';
import { DomainError, ErrorCode, httpStatusOf } from '../../domain/errors';

/** Route paths as the router knows them (`/orders/:orderId`) → the methods each answers. */
class MethodTable {
  private readonly routes = new Map<string, { pattern: RegExp; methods: Set<string> }>();

  add(url: string, methods: readonly string[]): void {
    let route = this.routes.get(url);
    if (!route) {
      const source = url
        .split('/')
        .map((s) => (s.startsWith(':') ? '[^/]+' : s === '*' ? '.*' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
        .join('/');
      route = { pattern: new RegExp(`^${source}$`), methods: new Set() };
      this.routes.set(url, route);
    }
    for (const m of methods) route.methods.add(m.toUpperCase());
  }

  /** The methods some route answers on this concrete path (query string ignored). */
  allowed(rawUrl: string): string[] {
    const path = rawUrl.split('?')[0];
    const methods = new Set<string>();
    for (const { pattern, methods: ms } of this.routes.values())
      if (pattern.test(path)) ms.forEach((m) => methods.add(m));
    return [...methods].sort();
  }
}

/**
 * Errors the router raises before a route is chosen (Fastify's `frameworkErrors`): a path
 * segment over the router's 100-character limit or badly percent-encoded. Such a path holds
 * no valid id (ids are at most 64 characters), so it is the same 400 VALIDATION_FAILED a
 * malformed id gets, not the framework's own body.
 */
export function frameworkErrors(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  const message =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'a path segment is longer than 100 characters: no such id exists'
      : 'the path is not validly encoded';
  void reply.code(400).send({ code: ErrorCode.VALIDATION_FAILED, message });
}

export default fp(async function errorsPlugin(app: FastifyInstance) {
  const table = new MethodTable();
  app.addHook('onRoute', (route) => table.add(route.url, Array.isArray(route.method) ? route.method : [route.method]));

  /** No route for this method and path: 405 when the path has other methods, else 404. */
  const unrouted = (request: FastifyRequest, reply: FastifyReply) => {
    const allowed = table.allowed(request.url);
    if (allowed.length > 0) {
      return reply
        .code(405)
        .header('allow', allowed.join(', '))
        .send({
          code: ErrorCode.METHOD_NOT_ALLOWED,
          message: `${request.method} is not allowed here; allowed: ${allowed.join(', ')}`,
        });
    }
    return reply.code(404).send({ code: ErrorCode.NOT_FOUND, message: `no route ${request.method} ${request.url}` });
  };
  app.setNotFoundHandler(unrouted);

  app.setErrorHandler((thrown: FastifyError | DomainError, request, reply) => {
    // A request no route takes can still fail before the not-found handler runs (a QUERY
    // without Content-Type, a body it cannot parse): the answer is still 405 or 404.
    if (request.is404) return unrouted(request, reply);
    const err = asDataError(thrown) ?? thrown;
    if (err instanceof DomainError) {
      const status = httpStatusOf[err.code];
      if (status >= 500) request.log.error({ err }, err.message);
      const retryAfter = (err.details as { retryAfter?: unknown } | undefined)?.retryAfter;
      if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
      return reply.code(status).send({ code: err.code, message: err.message, details: err.details });
    }
    if (err.validation) {
      return reply.code(400).send({ code: ErrorCode.VALIDATION_FAILED, message: err.message, details: err.validation });
    }
    const status = err.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply.code(status).send({ code: ErrorCode.VALIDATION_FAILED, message: err.message });
    }
    request.log.error({ err }, 'unhandled error');
    return reply.code(500).send({ code: ErrorCode.INTERNAL, message: 'internal error' });
  });
});
