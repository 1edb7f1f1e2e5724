/**
 * Outbound alert webhook: pushes each undelivered alert to ALERT_WEBHOOK_URL, signed like
 * the inbound payment webhook (X-Signature over "<timestamp>.<body>"). At least once: an
 * alert is marked delivered only after a 2xx, so receivers dedupe by X-Alert-Id.
 */
import { signPayload } from '../platform/webhook-signature';
import type { Db } from '../data/db';
import { markAlertDelivered, pendingAlerts } from '../data/alerts/stock-alerts';

/** Where alerts go and the key that signs them. */
export interface AlertWebhook {
  readonly url: string;
  readonly secret: string;
}

const BATCH = 100;
const TIMEOUT_MS = 5_000;

/** Delivers pending alerts oldest first; a failure throws so Temporal retries the rest later. */
export async function deliverAlerts(db: Db, webhook: AlertWebhook | undefined): Promise<number> {
  if (!webhook) return 0;
  const pending = await pendingAlerts(db, BATCH);
  for (const alert of pending) {
    const id = alert.id.toString();
    const body = JSON.stringify({
      id,
      kind: alert.kind,
      sku: alert.sku,
      warehouseCode: alert.warehouseCode,
      lotCode: alert.lotCode,
      details: alert.details,
      createdAt: alert.createdAt.toISOString(),
    });
    const timestamp = Math.floor(Date.now() / 1000);
    const res = await fetch(webhook.url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-alert-id': id,
        'x-signature-timestamp': String(timestamp),
        'x-signature': signPayload(webhook.secret, timestamp, body),
      },
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`alert webhook answered ${res.status} for alert ${id}`);
    await markAlertDelivered(db, alert.id);
  }
  return pending.length;
}
