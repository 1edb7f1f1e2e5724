/**
 * The console's actions (POST, scope admin, a CSRF token each): Extend and Release a hold,
 * drive a payment's settlement, run a reconciliation. Each goes through the use case its JSON
 * route uses (fences, sagas and answers alike), and is recorded in `admin_audit` with the
 * signed-in key before it runs, as every admin request is. A refusal is a page with its
 * status and code; success sends the browser back to the list it came from.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { preHandlerAsyncHookHandler } from 'fastify';
import type { ConsoleConfig } from '../../../config';
import { recordAdminRequest } from '../../../data/keys/audit';
import { DomainError } from '../../../domain/errors';
import { ExtensionSource } from '../../../domain/hold-extensions';
import { extendHold } from '../../../use-cases/extend-hold';
import { cancelOrder } from '../../../use-cases/orders';
import { runReconciliation } from '../../../use-cases/run-reconciliation';
import { driveSettlement } from '../../../use-cases/settle-stale-payments';
import { Id, Text } from '../../schemas';
import { Need, requireSession } from './session';

const Csrf = Type.String({ maxLength: 512 });
const Reason = Text({ minLength: 1, maxLength: 200 });

const consoleActions: FastifyPluginAsyncTypebox<{ settings: ConsoleConfig }> = async (app) => {
  const { db, temporal, config } = app.deps;
  const taskQueue = config.temporal.taskQueue;
  /** After the session's admin check, before the action: who did what, with which form (without its token). */
  const audit: preHandlerAsyncHookHandler = async (request) => {
    const { _csrf, ...body } = (request.body ?? {}) as Record<string, unknown>;
    void _csrf;
    await recordAdminRequest(db, {
      actor: request.principal!.keyId,
      method: request.method,
      route: request.routeOptions.url ?? request.url,
      url: request.url,
      body,
    });
  };
  // CSRF first (once the form is parsed, before it is validated): a forged form is refused
  // before anything else is looked at; then the key's scope, then the audit row.
  const guarded = {
    config: { access: 'console' as const },
    preValidation: app.csrfProtection,
    preHandler: [requireSession(app, Need.ACT), audit],
  };
  const back = (path: string, params: Record<string, string>) => `${path}?${new URLSearchParams(params).toString()}`;

  app.post(
    '/console/holds/:orderId/extend',
    {
      ...guarded,
      schema: {
        params: Type.Object({ orderId: Id }),
        body: Type.Object({
          _csrf: Csrf,
          extensionId: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' }),
          seconds: Type.String({ pattern: '^[0-9]{1,7}$' }),
          reason: Reason,
        }),
      },
    },
    async (request, reply) => {
      const { orderId } = request.params;
      const { extensionId, reason } = request.body;
      const seconds = Number(request.body.seconds);
      const deps = { db, temporal, taskQueue, caps: config.holdExtension };
      const outcome = await extendHold(deps, {
        orderId,
        extensionId,
        seconds,
        reason,
        source: ExtensionSource.CONSOLE,
      });
      if (outcome.status === 'REFUSED') throw new DomainError(outcome.code, outcome.message, { extensionId });
      request.log.info(
        { orderId, extensionId, expiresAt: outcome.expiresAt, actor: request.principal!.keyId },
        'console: hold extended',
      );
      return reply.redirect(back('/console/holds', { done: 'extended', order: orderId }), 303);
    },
  );

  app.post(
    '/console/holds/:orderId/release',
    {
      ...guarded,
      schema: { params: Type.Object({ orderId: Id }), body: Type.Object({ _csrf: Csrf, reason: Reason }) },
    },
    async (request, reply) => {
      const { orderId } = request.params;
      const reads = { temporal, db, queryTimeoutMs: config.orderQueryTimeoutMs };
      await cancelOrder(
        { ...reads, taskQueue, waitTimeoutMs: config.workflowWaitTimeoutMs },
        orderId,
        request.body.reason,
      );
      request.log.info({ orderId, actor: request.principal!.keyId }, 'console: hold released');
      return reply.redirect(back('/console/holds', { done: 'released', order: orderId }), 303);
    },
  );

  app.post(
    '/console/payments/:orderId/:paymentId/settle',
    {
      ...guarded,
      schema: {
        params: Type.Object({ orderId: Id, paymentId: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' }) }),
        body: Type.Object({ _csrf: Csrf }),
      },
    },
    async (request, reply) => {
      const { orderId, paymentId } = request.params;
      const target = { db, temporal, taskQueue, ttlSeconds: config.reservationTtlSeconds };
      const result = await driveSettlement(target, config.paymentDelivery, orderId, paymentId);
      return reply.redirect(
        back('/console/payments', { done: 'settled', order: orderId, payment: paymentId, result }),
        303,
      );
    },
  );

  app.post(
    '/console/reconciliation/run',
    { ...guarded, schema: { body: Type.Object({ _csrf: Csrf }) } },
    async (_request, reply) => {
      const report = await runReconciliation(app.deps);
      return reply.redirect(back('/console/reconciliation', { done: 'reconciled', run: report.runId }), 303);
    },
  );
};

export default consoleActions;
