/**
 * POST /webhooks/payments — the payment provider's callback. Signed, replay-protected and
 * idempotent by event id: a redelivered event gets the first answer and changes nothing.
 * It answers at PostgreSQL speed: once the payment and its delivery row are committed. The
 * delivery to the order's saga follows the answer (bounded here, the worker's relay for the
 * rest), and the row stays until the payment is settled; an order PostgreSQL does not know
 * gets a grace for its hold, then its payment is settled REFUND_REQUIRED — never deleted.
 */
import { Type, type FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { DomainError, ErrorCode } from '../../../domain/errors';
import { errors, Id, refusals } from '../../schemas';
import { PaymentDeliverer } from '../../../use-cases/payment-relay';
import { receivePayment } from '../../../use-cases/receive-payment';
import { receivePendingPayment } from '../../../use-cases/extend-hold';
import { receivePaymentEvent } from '../../../use-cases/payment-events';
import { verifySignature } from '../../../platform/webhook-signature';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody?: string;
  }
}

const PaymentEventBody = Type.Object(
  {
    eventId: Type.String({ pattern: '^[A-Za-z0-9_.:-]{1,128}$' }),
    type: Type.Union(
      [
        Type.Literal('payment.succeeded'),
        Type.Literal('payment.pending'),
        Type.Literal('payment.failed'),
        Type.Literal('payment.canceled'),
        Type.Literal('payment.refunded'),
      ],
      {
        description:
          'payment.succeeded: the payment was made (stored, then settled). payment.pending: it is on its way (a 3-D Secure challenge): the hold is extended by PAYMENT_PENDING_EXTENSION_SECONDS, once per payment, within the extension caps. ' +
          'payment.failed: an attempt failed; recorded, the hold stays. payment.canceled: the provider closed the payment for good; the hold is released at once (PAYMENT_CANCELED). ' +
          'payment.refunded: a payment owed back is closed REFUNDED; on a sale it is recorded only (a return moves stock).',
      },
    ),
    orderId: Id,
    paymentId: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,128}$' }),
    amountCents: Type.Integer({ minimum: 0, maximum: 2_000_000_000 }),
    currency: Type.Optional(
      Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 (EUR, USD…), stored beside amountCents' }),
    ),
  },
  { additionalProperties: false },
);

/** Checked before anything else (preValidation); declared so clients know to send them. */
const SignatureHeaders = Type.Object({
  'x-signature': Type.String({
    pattern: '^sha256=[0-9a-f]{64}$',
    description: 'sha256=<hex HMAC-SHA256(WEBHOOK_SECRET, "<timestamp>.<raw body>")>',
  }),
  'x-signature-timestamp': Type.String({
    pattern: '^[0-9]{1,12}$',
    description: 'unix seconds; within WEBHOOK_TOLERANCE_SECONDS of now',
  }),
});

const Ack = Type.Object({
  eventId: Type.String(),
  orderId: Type.String(),
  result: Type.String({
    description:
      'payment.succeeded: ACCEPTED (the payment is stored and will be settled, delivered after this answer) or SETTLED (it already was). ' +
      'payment.pending: EXTENDED, or why the hold was not (HOLD_EXPIRED, NOT_EXTENDABLE, EXTENSION_LIMIT_REACHED, NO_HOLD). payment.failed: RECORDED. ' +
      'payment.canceled: RELEASING (the saga releases the hold now), or ENDED (the order had already ended). payment.refunded: REFUNDED, RECORDED (on a sale, or a payment still pending) or NO_PAYMENT. ' +
      'A redelivered event gets its first answer.',
  }),
  expiresAt: Type.Optional(
    Type.String({ format: 'date-time', description: "payment.pending, EXTENDED: the hold's new expiry" }),
  ),
});

const webhooks: FastifyPluginAsyncTypebox = async (app) => {
  const { temporal, config, metrics, db } = app.deps;
  const settings = config.paymentDelivery;
  // Signals after the commit, a bounded number at a time; the worker's relay has the rest.
  const deliverer = new PaymentDeliverer(
    { temporal, db, taskQueue: config.temporal.taskQueue, ttlSeconds: config.reservationTtlSeconds },
    settings,
    settings.concurrency,
    (attempt, err) => {
      metrics.paymentDeliveries.inc({ source: 'api', outcome: attempt.toLowerCase() });
      if (err) app.log.warn({ err }, 'payment delivery failed; the relay will deliver it');
    },
  );

  // While a burst is being answered (the saga starter's measure), deliveries wait, bounded;
  // past the bound, with the burst still on, the worker's payment relay has them.
  deliverer.busy = () => app.holds.starter.busy();
  deliverer.maxDeferMs = config.sagaStartMaxDeferMs;
  const reportLeft = setInterval(
    () => metrics.leftToRelay.set({ work: 'payment_delivery' }, deliverer.leftToRelay),
    1_000,
  ).unref();
  app.addHook('onClose', async () => clearInterval(reportLeft));
  const receiving = { db, deliverer, relayGraceMs: settings.relayGraceMs };
  const extending = { db, temporal, taskQueue: config.temporal.taskQueue, caps: config.holdExtension };

  // Attempts in flight (milliseconds each while Temporal answers) finish before the process's
  // clients close, but never hold a drain up for long; queued ones, and stuck ones, are the relay's.
  app.addHook('onClose', () => deliverer.close(Math.min(1_000, config.shutdown.timeoutMs)));

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
        description:
          'Headers: X-Signature-Timestamp (unix seconds) and X-Signature: sha256=<hex HMAC-SHA256(WEBHOOK_SECRET, "<timestamp>.<raw body>")>. Answered once the payment is stored; the saga hears of it after the answer.',
        tags: ['webhooks'],
        headers: SignatureHeaders,
        body: PaymentEventBody,
        response: {
          200: Ack,
          ...errors(400, 409),
          ...refusals({ 401: 'INVALID_SIGNATURE: missing, wrong or stale signature (checked before the body)' }),
        },
      },
      // Authenticity first: an unsigned request learns nothing, not even whether its body is valid.
      preValidation: async (request) => {
        const check = verifySignature(
          config.webhookSecret,
          config.webhookToleranceSeconds,
          Math.floor(Date.now() / 1000),
          {
            signature: header(request.headers['x-signature']),
            timestamp: header(request.headers['x-signature-timestamp']),
          },
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
      const payment = {
        orderId: event.orderId,
        eventId: event.eventId,
        paymentId: event.paymentId,
        amountCents: event.amountCents,
        ...(event.currency ? { currency: event.currency } : {}),
      };
      if (event.type === 'payment.pending') {
        const pending = await receivePendingPayment(extending, payment, config.holdExtension.paymentPendingSeconds);
        if (pending.kind === 'conflict') {
          metrics.webhooks.inc({ result: 'conflict' });
          throw new DomainError(ErrorCode.IDEMPOTENCY_CONFLICT, pending.message);
        }
        metrics.webhooks.inc({ result: pending.kind === 'duplicate' ? 'duplicate' : 'pending' });
        request.log.info({ result: pending.answer }, 'payment pending');
        const expiresAt =
          pending.kind === 'accepted' && pending.extension?.status === 'EXTENDED'
            ? pending.extension.expiresAt
            : undefined;
        return {
          eventId: event.eventId,
          orderId: event.orderId,
          result: pending.answer,
          ...(expiresAt ? { expiresAt } : {}),
        };
      }
      if (event.type !== 'payment.succeeded') {
        const other = await receivePaymentEvent(extending, event.type, payment);
        if (other.kind === 'conflict') {
          metrics.webhooks.inc({ result: 'conflict' });
          throw new DomainError(ErrorCode.IDEMPOTENCY_CONFLICT, other.message);
        }
        const answer = other.kind === 'new' ? 'RECEIVED' : other.answer;
        metrics.webhooks.inc({ result: other.kind === 'duplicate' ? 'duplicate' : event.type.replace('payment.', '') });
        request.log.info({ type: event.type, result: answer }, 'payment event stored');
        return { eventId: event.eventId, orderId: event.orderId, result: answer };
      }
      const outcome = await receivePayment(receiving, payment);
      if (outcome.kind === 'conflict') {
        metrics.webhooks.inc({ result: 'conflict' });
        throw new DomainError(ErrorCode.IDEMPOTENCY_CONFLICT, outcome.message);
      }
      metrics.webhooks.inc({ result: outcome.kind === 'duplicate' ? 'duplicate' : outcome.answer.toLowerCase() });
      request.log.info({ result: outcome.answer }, 'payment stored');
      return { eventId: event.eventId, orderId: event.orderId, result: outcome.answer };
    },
  );
};

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export default webhooks;
