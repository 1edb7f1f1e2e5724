/**
 * The operator console (/console): server-rendered pages on the API's own port, never the ops
 * port (access 'console', api/plugins/auth.ts). A sign-in with an API key starts a signed
 * cookie session (./session.ts); every POST carries a CSRF token (403 without); `ops` reads,
 * `admin` acts through the same use cases as the JSON API, audited with the key. CSP
 * `default-src 'self'; script-src 'self'`: htmx and the console's script and CSS are served
 * from here, nothing inline, no CDN.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { asDataError } from '../../../data/data-errors';
import { DomainError, ErrorCode, httpStatusOf } from '../../../domain/errors';
import type { ConsoleConfig } from '../../../config';
import { allowed, CONSOLE_PATH, endSession, Need, startSession } from './session';
import { errorPage, signInPage } from './views/sign-in';
import consolePages from './pages';
import consoleActions from './actions';

/** Every console answer: no script but our own files, no framing, no sniffing. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
} as const;

/** The files the pages load, read once at boot. */
function assets(): Record<string, { type: string; body: Buffer }> {
  const own = (name: string) => readFileSync(path.join(__dirname, 'assets', name));
  return {
    'console.css': { type: 'text/css; charset=utf-8', body: own('console.css') },
    'console.js': { type: 'text/javascript; charset=utf-8', body: own('console.js') },
    'htmx.min.js': {
      type: 'text/javascript; charset=utf-8',
      body: readFileSync(require.resolve('htmx.org/dist/htmx.min.js')),
    },
  };
}

/** The console under CONSOLE_PATH; registered only while CONSOLE_ENABLED (config.console). */
const consolePlugin: FastifyPluginAsyncTypebox<{ settings: ConsoleConfig }> = async (app, { settings }) => {
  await app.register(cookie, { secret: settings.sessionSecret });
  await app.register(formbody, { bodyLimit: 16 * 1024 });
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: 'stockhold_csrf',
    cookieOpts: { path: CONSOLE_PATH, sameSite: 'strict', httpOnly: true, signed: true, secure: 'auto' },
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.headers(SECURITY_HEADERS);
    return payload;
  });
  app.setErrorHandler((thrown: FastifyError | DomainError, request, reply) => answerError(thrown, request, reply));

  const files = assets();
  app.get(
    '/console/assets/:file',
    {
      config: { access: 'console' },
      schema: { params: Type.Object({ file: Type.String({ pattern: '^[a-z.]{1,32}$' }) }) },
    },
    async (request, reply) => {
      const file = files[request.params.file];
      if (!file) throw new DomainError(ErrorCode.NOT_FOUND, `no console asset ${request.params.file}`);
      return reply.type(file.type).header('cache-control', 'public, max-age=300').send(file.body);
    },
  );

  app.get('/console/sign-in', { config: { access: 'console' } }, async (_request, reply) =>
    reply.type('text/html').send(String(signInPage(reply.generateCsrf()))),
  );

  app.post(
    '/console/sign-in',
    {
      config: { access: 'console' },
      schema: {
        body: Type.Object({
          key: Type.String({ minLength: 1, maxLength: 512 }),
          _csrf: Type.String({ maxLength: 512 }),
        }),
      },
      preValidation: app.csrfProtection,
    },
    async (request, reply) => {
      const again = (status: number, code: string, message: string) =>
        reply
          .code(status)
          .type('text/html')
          .send(String(signInPage(reply.generateCsrf(), { code, message })));
      let principal;
      try {
        principal = await app.keys.verify(`Bearer ${request.body.key.trim()}`);
      } catch (err) {
        if (err instanceof DomainError && err.code === ErrorCode.UNAUTHORIZED)
          return again(401, err.code, `${err.message}: check the key and try again.`);
        throw err;
      }
      if (!allowed(principal, Need.READ))
        return again(
          403,
          ErrorCode.FORBIDDEN,
          'this API key has neither scope "ops" nor "admin": it cannot use the console.',
        );
      startSession(reply, principal, settings.sessionHours);
      request.log.info({ keyId: principal.keyId }, 'console sign-in');
      return reply.redirect(CONSOLE_PATH, 303);
    },
  );

  app.post(
    '/console/sign-out',
    { config: { access: 'console' }, preValidation: app.csrfProtection },
    async (_request, reply) => {
      endSession(reply);
      return reply.redirect('/console/sign-in', 303);
    },
  );

  await app.register(consolePages, { settings });
  await app.register(consoleActions, { settings });
};

/**
 * Every failure as a page with its status and code (domain/errors.ts): without a session a
 * page sends the browser to the sign-in (htmx: HX-Redirect), a missing or stale CSRF token is
 * 403 FORBIDDEN, bad input 400 VALIDATION_FAILED; nothing was changed by any of them.
 */
function answerError(thrown: FastifyError | DomainError, request: FastifyRequest, reply: FastifyReply) {
  const err = asDataError(thrown) ?? thrown;
  let status: number;
  let code: string;
  let message = err.message;
  if (err instanceof DomainError) {
    status = httpStatusOf[err.code];
    code = err.code;
  } else if (typeof err.code === 'string' && err.code.startsWith('FST_CSRF')) {
    status = 403;
    code = ErrorCode.FORBIDDEN;
    message =
      'the form had no valid CSRF token (it is older than your session, or came from another site): reload the page and try again';
  } else if (err.validation || (err.statusCode && err.statusCode >= 400 && err.statusCode < 500)) {
    status = 400;
    code = ErrorCode.VALIDATION_FAILED;
  } else {
    request.log.error({ err }, 'console: unhandled error');
    status = 500;
    code = ErrorCode.INTERNAL;
    message = 'internal error';
  }
  if (status === 401 && request.method === 'GET') {
    if (request.headers['hx-request']) return reply.code(401).header('hx-redirect', '/console/sign-in').send('');
    return reply.redirect('/console/sign-in', 303);
  }
  return reply
    .code(status)
    .type('text/html')
    .send(String(errorPage(status, code, message)));
}

export default consolePlugin;
