/**
 * POST /webhooks/payments — the payment provider's callback. Signed, replay-protected and
 * idempotent by event id: a redelivered event gets the first answer and changes nothing.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DomainError, ErrorCode } from '../../../domain/errors';
import { errors, Id } from '../../schemas';
import { deliverPayment } from './deliver';
import { verifySignature } from './signature';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}

const PaymentEventBody = Type.Object(
  {
    eventId: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' }),
    type: Type.Literal('payment.succeeded'),
    orderId: Id,
    paymentId: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,128}$' }),
    amountCents: Type.Integer({ minimum: 0, maximum: 2_000_000_000 }),
  },
  { additionalProperties: false },
);

const Ack = Type.Object({ eventId: Type.String(), orderId: Type.String(), result: Type.String() });

const webhooks: FastifyPluginAsyncTypebox = async (app) => {
  const { temporal, config, metrics, db } = app.deps;

  // The signature covers the exact bytes sent, so keep them (this plugin's scope only).
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: 64 * 1024 }, (request, body, done) => {
    request.rawBody = body as string;
    try {
      done(null, JSON.parse(body as string));
    } catch {
      done(new DomainError(ErrorCode.VALIDATION_FAILED, 'body is not valid JSON'), undefined);
    }
  });

  app.post(
    '/webhooks/payments',
    {
      schema: {
        summary: 'Payment provider callback (HMAC-signed)',
        description:
          'Headers: X-Signature-Timestamp (unix seconds) and X-Signature: sha256=<hex HMAC-SHA256(WEBHOOK_SECRET, "<timestamp>.<raw body>")>.',
        tags: ['webhooks'],
        body: PaymentEventBody,
        response: { 200: Ack, ...errors(400, 401, 404, 409) },
      },
      // Authenticity first: an unsigned request learns nothing, not even whether its body is valid.
      preValidation: async (request) => {
        const check = verifySignature(
          config.webhookSecret,
          config.webhookToleranceSeconds,
          Math.floor(Date.now() / 1000),
          { signature: header(request.headers['x-signature']), timestamp: header(request.headers['x-signature-timestamp']) },
          request.rawBody ?? '',
        );
        if (!check.ok) {
          metrics.webhooks.inc({ result: 'bad_signature' });
          throw new DomainError(ErrorCode.INVALID_SIGNATURE, check.reason);
        }
      },
    },
    async (request) => {
      const event = request.body;
      request.log = request.log.child({ orderId: event.orderId, eventId: event.eventId });
      const seen = await db.paymentEvent.findUnique({ where: { eventId: event.eventId } });
      if (seen && (seen.orderId !== event.orderId || seen.paymentId !== event.paymentId || seen.amountCents !== event.amountCents)) {
        metrics.webhooks.inc({ result: 'conflict' });
        throw new DomainError(ErrorCode.IDEMPOTENCY_CONFLICT, `event ${event.eventId} was delivered with other content`);
      }
      if (seen?.deliveredAt) {
        metrics.webhooks.inc({ result: 'duplicate' });
        return { eventId: seen.eventId, orderId: seen.orderId, result: firstResult(seen.result) };
      }
      const payment = { eventId: event.eventId, paymentId: event.paymentId, amountCents: event.amountCents };
      // Record, deliver, then mark delivered. A crash in between leaves the row undelivered,
      // so the provider's retry delivers again (the saga absorbs duplicates): a payment can
      // be delivered twice but never lost.
      if (!seen) {
        await db.paymentEvent.createMany({
          data: [{ eventId: event.eventId, orderId: event.orderId, paymentId: event.paymentId, amountCents: event.amountCents, result: 'RECEIVED' }],
          skipDuplicates: true,
        });
      }
      const result = await deliverPayment(temporal, config.temporal.taskQueue, config.reservationTtlSeconds, event.orderId, payment).catch(async (err) => {
        metrics.webhooks.inc({ result: err instanceof DomainError ? err.code : 'error' });
        // An unknown order is bad input: leave no trace of it.
        if (err instanceof DomainError && err.code === ErrorCode.ORDER_NOT_FOUND) {
          await db.paymentEvent.deleteMany({ where: { eventId: event.eventId, deliveredAt: null } });
        }
        throw err;
      });
      // A fast settlement may already have stored its final result; keep it.
      await db.$executeRaw`
        UPDATE payment_events
           SET delivered_at = now(), result = CASE WHEN result = 'RECEIVED' THEN ${result} ELSE result END
         WHERE event_id = ${event.eventId}`;
      metrics.webhooks.inc({ result: result.toLowerCase() });
      request.log.info({ result }, 'payment delivered');
      return { eventId: event.eventId, orderId: event.orderId, result };
    },
  );
};

/** The answer given to the first delivery (a settlement may have refined the stored result). */
function firstResult(stored: string): string {
  return stored === 'DELIVERED' ? 'DELIVERED' : 'LATE_SETTLEMENT';
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export default webhooks;
