/**
 * POST /webhooks/payments — the payment provider's callback. Signed, replay-protected and
 * idempotent by event id: a redelivered event gets the first answer and changes nothing.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DomainError, ErrorCode } from '../../../domain/errors';
import { errors, Id, refusals } from '../../schemas';
import { deliverPayment } from '../../../activities/deliver-payment';
import { storePayment } from '../../../data/stock/payments';
import { PaymentState } from '../../../domain/payments';
import { verifySignature } from '../../../platform/webhook-signature';

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

/** Checked before anything else (preValidation); declared so clients know to send them. */
const SignatureHeaders = Type.Object({
  'x-signature': Type.String({ pattern: '^sha256=[0-9a-f]{64}$', description: 'sha256=<hex HMAC-SHA256(WEBHOOK_SECRET, "<timestamp>.<raw body>")>' }),
  'x-signature-timestamp': Type.String({ pattern: '^[0-9]{1,12}$', description: 'unix seconds; within WEBHOOK_TOLERANCE_SECONDS of now' }),
});

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
      // No API key: the provider signs each request with WEBHOOK_SECRET (checked below).
      config: { access: 'public' },
      schema: {
        summary: 'Payment provider callback (HMAC-signed)',
        description: 'Headers: X-Signature-Timestamp (unix seconds) and X-Signature: sha256=<hex HMAC-SHA256(WEBHOOK_SECRET, "<timestamp>.<raw body>")>.',
        tags: ['webhooks'],
        headers: SignatureHeaders,
        body: PaymentEventBody,
        response: {
          200: Ack,
          ...errors(400, 404, 409),
          ...refusals({ 401: 'INVALID_SIGNATURE: missing, wrong or stale signature (checked before the body)' }),
        },
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
      const answer = (result: string) => {
        metrics.webhooks.inc({ result: result.toLowerCase() });
        return { eventId: event.eventId, orderId: event.orderId, result };
      };
      // The event row first, race-free: of two concurrent first deliveries of one event id,
      // one inserts; the other finds it and is a duplicate, or a conflict if its content differs.
      const inserted = await db.$executeRaw`
        INSERT INTO payment_events (event_id, order_id, payment_id, amount_cents, result)
        VALUES (${event.eventId}, ${event.orderId}, ${event.paymentId}, ${event.amountCents}, 'RECEIVED')
        ON CONFLICT (event_id) DO NOTHING`;
      if (inserted === 0) {
        const seen = await db.paymentEvent.findUniqueOrThrow({ where: { eventId: event.eventId } });
        if (seen.orderId !== event.orderId || seen.paymentId !== event.paymentId || seen.amountCents !== event.amountCents) {
          metrics.webhooks.inc({ result: 'conflict' });
          throw new DomainError(ErrorCode.IDEMPOTENCY_CONFLICT, `event ${event.eventId} was delivered with other content`);
        }
        if (seen.deliveredAt) return answer(firstResult(seen.result));
      }
      const payment = { eventId: event.eventId, paymentId: event.paymentId, amountCents: event.amountCents };
      // The payment is a fact in PostgreSQL before any saga hears of it: whatever happens to
      // the delivery, reconciliation finds it PENDING and drives it to settlement.
      const { record, created } = await storePayment(db, { ...payment, orderId: event.orderId });
      if (record.amountCents !== event.amountCents) {
        await forget(event.eventId, false);
        metrics.webhooks.inc({ result: 'conflict' });
        throw new DomainError(ErrorCode.IDEMPOTENCY_CONFLICT, `payment ${event.paymentId} was reported with another amount`);
      }
      // Reported again under another event id after it was settled: it stays as settled.
      const result =
        record.state !== PaymentState.PENDING
          ? 'SETTLED'
          : await deliverPayment(
              { temporal, db, taskQueue: config.temporal.taskQueue, ttlSeconds: config.reservationTtlSeconds },
              event.orderId,
              payment,
            ).catch(async (err) => {
              metrics.webhooks.inc({ result: err instanceof DomainError ? err.code : 'error' });
              // An unknown order is bad input: leave no trace of it.
              if (err instanceof DomainError && err.code === ErrorCode.ORDER_NOT_FOUND) await forget(event.eventId, created);
              throw err;
            });
      // Mark delivered; a fast settlement may already have stored its final result: keep it.
      await db.$executeRaw`
        UPDATE payment_events
           SET delivered_at = now(), result = CASE WHEN result = 'RECEIVED' THEN ${result} ELSE result END
         WHERE event_id = ${event.eventId}`;
      request.log.info({ result }, 'payment delivered');
      return answer(result);
    },
  );

  /** Removes what an unanswered delivery stored (the payment only if this delivery created it). */
  async function forget(eventId: string, payment: boolean) {
    const event = await db.paymentEvent.findUnique({ where: { eventId } });
    await db.paymentEvent.deleteMany({ where: { eventId, deliveredAt: null } });
    if (payment && event) {
      await db.payment.deleteMany({ where: { orderId: event.orderId, paymentId: event.paymentId, eventId, state: PaymentState.PENDING } });
    }
  }
};

/** The answer given to the first delivery (a settlement may have refined the stored result). */
function firstResult(stored: string): string {
  return stored === 'DELIVERED' || stored === 'SETTLED' ? stored : 'LATE_SETTLEMENT';
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export default webhooks;
