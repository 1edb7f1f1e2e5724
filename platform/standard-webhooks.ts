/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): `webhook-id`,
 * `webhook-timestamp` (unix seconds) and `webhook-signature: v1,<base64 HMAC-SHA256(secret
 * bytes, "<id>.<timestamp>.<body>")>`, several signatures separated by spaces (a rotation's
 * overlap signs with the new and the old secret; a receiver accepts any one it knows).
 * Secrets are `whsec_<base64 of 24 random bytes>`. The npm `standardwebhooks` package's
 * `Webhook.verify` accepts what this signs (test/unit/standard-webhooks.test.ts).
 */
import { createHmac, randomBytes } from 'node:crypto';

export const SECRET_PREFIX = 'whsec_';

/** A new secret, shown once to whoever creates or rotates a subscription. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(24).toString('base64')}`;
}

/** One `v1,<base64>` signature of `body` with `secret`. */
export function signV1(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** The three headers of one attempt, signed with every secret given (the current one first). */
export function webhookHeaders(
  secrets: readonly string[],
  id: string,
  timestampSeconds: number,
  body: string,
): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': secrets.map((s) => signV1(s, id, timestampSeconds, body)).join(' '),
  };
}
