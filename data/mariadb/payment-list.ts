/**
 * Payments as a list on MySQL/MariaDB (issue 22): GET /admin/payments and the console's
 * counts, the reads of data/payments/payment-list.ts, through Prisma's MySQL client (plain
 * reads: no lock, one statement each). Newest first by (received_at, order_id, payment_id), a
 * keyset page after a position (the index payments_received_at_order_id_payment_id_idx, or the
 * state's); the caller makes the page and its cursor. `received_at` is DATETIME(3), UTC: the
 * adapter reads and writes it as UTC whatever the process's zone, so the cursor's instant
 * compares exactly.
 */
import type { KeyValue } from '../../domain/cursor';
import { paymentPageWhere, type PaymentListRow } from '../payments/payment-types';
import type { MysqlPrisma } from './db';

/** Up to `take` payments (optionally in one state, or of one order) after `after`, newest first. */
export async function listPaymentsOnMariadb(
  prisma: MysqlPrisma,
  f: { state?: string; orderId?: string },
  take: number,
  after?: KeyValue[],
): Promise<PaymentListRow[]> {
  const rows = await prisma.payment.findMany({
    where: paymentPageWhere(f, after),
    select: {
      orderId: true,
      paymentId: true,
      amountCents: true,
      state: true,
      reason: true,
      receivedAt: true,
      settledAt: true,
    },
    orderBy: [{ receivedAt: 'desc' }, { orderId: 'desc' }, { paymentId: 'desc' }],
    take,
  });
  return rows.map((p) => ({
    ...p,
    receivedAt: p.receivedAt.toISOString(),
    settledAt: p.settledAt?.toISOString() ?? null,
  }));
}

/** Payments per state (every state that has one). */
export async function countPaymentsByStateOnMariadb(prisma: MysqlPrisma): Promise<Record<string, number>> {
  const rows = await prisma.payment.groupBy({ by: ['state'], _count: { _all: true } });
  return Object.fromEntries(rows.map((r) => [r.state, r._count._all]));
}
