/** Payments as a list (GET /admin/payments): newest first, one keyset page at a time (domain/cursor.ts). */
import { toPage, type KeyPart, type KeyValue, type Page } from '../../domain/cursor';
import type { Db } from '../db';
import { mysqlPrismaOf } from '../mariadb/db';
import { countPaymentsByStateOnMariadb, listPaymentsOnMariadb } from '../mariadb/payment-list';
import { paymentPageWhere, type PaymentListRow } from './payment-types';

export type { PaymentListRow } from './payment-types';

export const PAYMENTS_LIST = 'payments';
export const PAYMENTS_KEY: readonly KeyPart[] = ['instant', 'text', 'text'];

/** One page of payments (optionally in one `state`, or of one order), newest first. */
export async function listPayments(
  db: Db,
  f: { state?: string; orderId?: string },
  limit: number,
  after?: KeyValue[],
): Promise<Page<PaymentListRow>> {
  const maria = mysqlPrismaOf(db);
  if (maria) {
    const rows = await listPaymentsOnMariadb(maria, f, limit + 1, after);
    return toPage(
      PAYMENTS_LIST,
      rows,
      limit,
      (p) => [p.receivedAt, p.orderId, p.paymentId],
      (p) => p,
    );
  }
  const rows = await db.payment.findMany({
    where: paymentPageWhere(f, after),
    orderBy: [{ receivedAt: 'desc' }, { orderId: 'desc' }, { paymentId: 'desc' }],
    take: limit + 1,
  });
  return toPage(
    PAYMENTS_LIST,
    rows,
    limit,
    (p) => [p.receivedAt.toISOString(), p.orderId, p.paymentId],
    (p) => ({
      orderId: p.orderId,
      paymentId: p.paymentId,
      amountCents: p.amountCents,
      state: p.state,
      reason: p.reason,
      receivedAt: p.receivedAt.toISOString(),
      settledAt: p.settledAt?.toISOString() ?? null,
    }),
  );
}

/** Payments per state (every state that has one), for the console's overview. */
export async function countPaymentsByState(db: Db): Promise<Record<string, number>> {
  const maria = mysqlPrismaOf(db);
  if (maria) return countPaymentsByStateOnMariadb(maria);
  const rows = await db.payment.groupBy({ by: ['state'], _count: { _all: true } });
  return Object.fromEntries(rows.map((r) => [r.state, r._count._all]));
}
