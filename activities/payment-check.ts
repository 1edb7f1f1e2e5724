/**
 * The backstop for a payment that slipped through every saga (the check that would have
 * caught the incident's 23): payments still PENDING `minutes` after they arrived are counted
 * in a metric, raised as an alert once each (GET /alerts and the alert webhook), and driven
 * to settlement through the same delivery the webhook uses — a running saga is signalled
 * again (harmless), an ended one gets a late-payment settlement.
 */
import type { UnsettledPayment } from '../domain/reports';
import { DomainError, ErrorCode } from '../domain/errors';
import { PaymentState } from '../domain/payments';
import type { Metrics } from '../platform/metrics';
import { deliverPayment, type DeliveryTarget } from './deliver-payment';
import { findUnsettledPayments, settlePaymentTx, type PaymentRecord } from '../data/stock/payments';

/** A payment found PENDING too long, and what the check did about it. */

export async function settleStalePayments(target: DeliveryTarget, metrics: Metrics, minutes: number): Promise<UnsettledPayment[]> {
  const stale = await findUnsettledPayments(target.db, minutes);
  metrics.paymentsUnsettled.set(stale.length);
  const found: UnsettledPayment[] = [];
  for (const p of stale) {
    await raiseAlert(target, p);
    found.push({
      orderId: p.orderId,
      paymentId: p.paymentId,
      eventId: p.eventId,
      amountCents: p.amountCents,
      receivedAt: p.receivedAt,
      action: await drive(target, p),
    });
  }
  return found;
}

async function drive(target: DeliveryTarget, p: PaymentRecord): Promise<string> {
  const payment = { eventId: p.eventId, paymentId: p.paymentId, amountCents: p.amountCents };
  try {
    return await deliverPayment(target, p.orderId, payment);
  } catch (err) {
    if (!(err instanceof DomainError && err.code === ErrorCode.ORDER_NOT_FOUND)) throw err;
    // Money for an order PostgreSQL never saw: nothing can be sold for it.
    await settlePaymentTx(target.db, { ...payment, orderId: p.orderId }, { state: PaymentState.REFUND_REQUIRED, reason: 'no such order' });
    return PaymentState.REFUND_REQUIRED;
  }
}

/** One alert per payment (kind + subject are unique), pushed by the alert webhook like the others. */
async function raiseAlert({ db }: DeliveryTarget, p: PaymentRecord): Promise<void> {
  const [line] = await db.reservationLine.findMany({ where: { reservationId: p.orderId }, take: 1, select: { sku: true, warehouseCode: true } });
  await db.stockAlert.createMany({
    data: [
      {
        kind: 'PAYMENT_UNSETTLED',
        subject: `${p.orderId}/${p.paymentId}`,
        sku: line?.sku ?? '-',
        warehouseCode: line?.warehouseCode ?? '-',
        details: { orderId: p.orderId, paymentId: p.paymentId, eventId: p.eventId, amountCents: p.amountCents, receivedAt: p.receivedAt },
      },
    ],
    skipDuplicates: true,
  });
}
