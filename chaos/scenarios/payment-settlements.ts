/**
 * Scenario 9's verdict on the payments, read from PostgreSQL once the sagas have ended: the
 * webhook's answers agree with what was stored, and every settlement agrees with the ledger.
 */
import type { Stack } from '../stack';

/** One delivery as the payment provider saw it. */
export interface Delivered {
  readonly id: string;
  readonly status: number;
}

/**
 * - 200: the payment must be settled (checked for every scenario as `lost`);
 * - 404: only for an order PostgreSQL never decided (refused by the gate, or not held yet),
 *   and nothing may be kept;
 * - anything else: a failure of the service;
 * - CONFIRMED ⇔ the hold it names was confirmed in the ledger, for every order of `prefix`.
 */
export async function settlementProblems(
  stack: Stack,
  prefix: string,
  deliveries: readonly Delivered[],
  unknownAtDelivery: ReadonlySet<string>,
): Promise<string[]> {
  const problems: string[] = [];
  const unknown = deliveries.filter((d) => d.status === 404);
  const wrong404 = unknown.filter((d) => !unknownAtDelivery.has(d.id)).map((d) => d.id);
  if (wrong404.length > 0) problems.push(`webhook 404 for orders PostgreSQL knew: ${wrong404.slice(0, 5).join(', ')}`);
  const kept = await stack.db.payment.count({ where: { orderId: { in: unknown.map((d) => d.id) }, eventId: { in: unknown.map((d) => `ev-${d.id}`) } } });
  if (kept > 0) problems.push(`${kept} payments of unknown orders (404) kept`);
  const failed = deliveries.filter((d) => d.status !== 200 && d.status !== 404);
  if (failed.length > 0)
    problems.push(
      `webhook failed: ${failed
        .slice(0, 5)
        .map((d) => `${d.id} → ${d.status}`)
        .join(', ')}`,
    );

  const like = `${prefix}%`;
  const unbacked = await stack.db.$queryRaw<{ order_id: string }[]>`
    SELECT p.order_id FROM payments p
     WHERE p.order_id LIKE ${like} AND p.state = 'CONFIRMED'
       AND NOT EXISTS (SELECT 1 FROM stock_movements m WHERE m.reason = 'CONFIRM' AND m.reference = p.reservation_id)`;
  if (unbacked.length > 0) problems.push(`CONFIRMED payments with no confirmed hold: ${firstFive(unbacked.map((r) => r.order_id))}`);
  const unpaid = await stack.db.$queryRaw<{ reference: string }[]>`
    SELECT DISTINCT m.reference FROM stock_movements m
     WHERE m.reason = 'CONFIRM' AND m.reference LIKE ${like}
       AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.state = 'CONFIRMED' AND p.reservation_id = m.reference)`;
  if (unpaid.length > 0) problems.push(`holds confirmed without a CONFIRMED payment: ${firstFive(unpaid.map((r) => r.reference))}`);
  return problems;
}

const firstFive = (ids: string[]) => ids.slice(0, 5).join(', ');
