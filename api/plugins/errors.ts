/**
 * The one error handler: every failure leaves as `{ code, message, details? }` with the
 * status the error table gives. Bad input is always a 4xx, never a 5xx.
 */
import fp from 'fastify-plugin';
import type { FastifyError, FastifyInstance } from 'fastify';
import { DomainError, ErrorCode, httpStatusOf } from '../../domain/errors';

export default fp(async function errorsPlugin(app: FastifyInstance) {
  app.setNotFoundHandler((request, reply) => {
    reply.code(404).send({ code: ErrorCode.NOT_FOUND, message: `no route ${request.method} ${request.url}` });
  });

  app.setErrorHandler((err: FastifyError | DomainError, request, reply) => {
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
