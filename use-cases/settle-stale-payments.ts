/**
 * The backstop for a payment that slipped through every saga (the check that would have
 * caught the incident's 23): payments still PENDING `minutes` after they arrived are counted
 * in a metric, raised as an alert once each (GET /alerts and the alert webhook), and driven
 * to settlement through the same delivery attempt the webhook and the relay use — a running
 * saga is signalled again (harmless), an ended one gets a late-payment settlement, an order
 * PostgreSQL never saw is settled REFUND_REQUIRED (UNKNOWN_ORDER) after its grace.
 *
 * It reads every PENDING payment, page by page (keyset), and one bad payment never stops the
 * pass: its failure is counted, reported as its action, and the others go on.
 */
import type { UnsettledPayment } from '../domain/reports';
import type { Metrics } from '../platform/metrics';
import { attemptDelivery, type AttemptSettings, type DeliveryAttempt, type DeliveryTarget } from './deliver-payment';
import { findUnsettledPayments, readPayments, type PaymentCursor, type PaymentRecord } from '../data/payments/payments';
import { DomainError, ErrorCode } from '../domain/errors';
import { PaymentState } from '../domain/payments';
import { AlertKind, raiseAlert } from '../data/alerts/stock-alerts';
import { firstReservationLine } from '../data/orders/queries';

/** The backstop's settings: the delivery attempt's, and how many payments it reads at once. */
export interface BackstopOptions extends AttemptSettings {
  readonly pageSize: number;
}

/** Without a config (tests, scripts): re-check after 5 s, and the backstop's age is the unknown order's grace. */
export const defaultBackstopOptions: BackstopOptions = { recheckMs: 5_000, unknownOrderGraceSeconds: 0, pageSize: 500 };

export async function settleStalePayments(
  target: DeliveryTarget,
  metrics: Metrics,
  minutes: number,
  options: BackstopOptions = defaultBackstopOptions,
): Promise<UnsettledPayment[]> {
  const found: UnsettledPayment[] = [];
  let after: PaymentCursor | undefined;
  for (;;) {
    const page = await findUnsettledPayments(target.db, minutes, { after, limit: options.pageSize });
    for (const p of page) found.push({ ...report(p), action: await drive(target, metrics, options, p) });
    if (page.length < options.pageSize) break;
    after = page[page.length - 1];
  }
  metrics.paymentsUnsettled.set(found.length);
  return found;
}

/** Alerts and drives one payment; a failure is this payment's action, never the pass's end. */
async function drive(
  target: DeliveryTarget,
  metrics: Metrics,
  options: BackstopOptions,
  p: PaymentRecord,
): Promise<string> {
  try {
    await raiseUnsettledAlert(target, p);
    const action = await attemptDelivery(target, options, {
      ...p,
      currency: p.currency ?? undefined,
      receivedAt: p.receivedAt,
    });
    metrics.paymentDeliveries.inc({ source: 'backstop', outcome: action.toLowerCase() });
    return action;
  } catch (err) {
    metrics.paymentDeliveries.inc({ source: 'backstop', outcome: 'failed' });
    // Its PAYMENT_UNSETTLED alert (if raised) stands; the next pass tries it again.
    return `FAILED: ${String(err instanceof Error ? err.message : err).slice(0, 200)}`;
  }
}

function report(p: PaymentRecord): Omit<UnsettledPayment, 'action'> {
  return {
    orderId: p.orderId,
    paymentId: p.paymentId,
    eventId: p.eventId,
    amountCents: p.amountCents,
    receivedAt: p.receivedAt,
  };
}

/** One alert per payment (kind + subject are unique), pushed by the alert webhook like the others. */
async function raiseUnsettledAlert({ db }: DeliveryTarget, p: PaymentRecord): Promise<void> {
  const line = await firstReservationLine(db, p.orderId);
  await raiseAlert(db, {
    kind: AlertKind.PAYMENT_UNSETTLED,
    subject: `${p.orderId}/${p.paymentId}`,
    sku: line?.sku ?? '-',
    warehouseCode: line?.warehouseCode ?? '-',
    details: {
      orderId: p.orderId,
      paymentId: p.paymentId,
      eventId: p.eventId,
      amountCents: p.amountCents,
      receivedAt: p.receivedAt,
    },
  });
}

/**
 * An operator's "drive settlement" of one payment (the console): the backstop's delivery
 * attempt, now, whatever the payment's age. A payment settled meanwhile is left as it is.
 */
export async function driveSettlement(
  target: DeliveryTarget,
  settings: AttemptSettings,
  orderId: string,
  paymentId: string,
): Promise<DeliveryAttempt | 'ALREADY_SETTLED'> {
  const [p] = await readPayments(target.db, orderId, paymentId);
  if (!p) throw new DomainError(ErrorCode.NOT_FOUND, `no payment ${paymentId} for order ${orderId}`);
  if (p.state !== PaymentState.PENDING) return 'ALREADY_SETTLED';
  return attemptDelivery(target, settings, { ...p, currency: p.currency ?? undefined });
}
