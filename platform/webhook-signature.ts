/**
 * Webhook signatures: `X-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`
 * with `X-Signature-Timestamp: <unix seconds>`. Binding the timestamp into the MAC and
 * refusing old timestamps stops a captured delivery from being replayed later.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export function signPayload(secret: string, timestamp: number, rawBody: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest('hex')}`;
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

export function verifySignature(
  secret: string,
  toleranceSeconds: number,
  nowSeconds: number,
  headers: { signature?: string; timestamp?: string },
  rawBody: string,
): SignatureCheck {
  if (!headers.signature || !headers.timestamp)
    return { ok: false, reason: 'missing X-Signature or X-Signature-Timestamp' };
  if (!/^\d{1,12}$/.test(headers.timestamp)) return { ok: false, reason: 'malformed timestamp' };
  const timestamp = Number(headers.timestamp);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return { ok: false, reason: 'timestamp outside tolerance' };
  const expected = Buffer.from(signPayload(secret, timestamp, rawBody));
  const given = Buffer.from(headers.signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'signature mismatch' };
  return { ok: true };
}
