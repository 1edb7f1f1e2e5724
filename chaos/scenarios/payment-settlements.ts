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
 * - 200: the payment is stored — a signed payment is never deleted (issue 16 item 4), also for an
 *   order PostgreSQL had not decided when it was paid (`unknownAtDelivery`: refused by the gate,
 *   or not held yet: it is delivered once the hold commits, or settled `REFUND_REQUIRED`
 *   (`UNKNOWN_ORDER`) after the grace) — and must end settled (checked for every scenario as `lost`);
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
  const accepted = deliveries.filter((d) => d.status === 200);
  const storedIds = await stack.probe.storedPayments(accepted.map((d) => d.id));
  const notStored = accepted
    .filter((d) => !storedIds.has(d.id))
    .map((d) => `${d.id}${unknownAtDelivery.has(d.id) ? ' (unknown when paid)' : ''}`);
  if (notStored.length > 0) problems.push(`accepted payments not stored: ${firstFive(notStored)}`);
  const failed = deliveries.filter((d) => d.status !== 200);
  if (failed.length > 0)
    problems.push(
      `webhook failed: ${failed
        .slice(0, 5)
        .map((d) => `${d.id} → ${d.status}`)
        .join(', ')}`,
    );

  const unbacked = await stack.probe.unbackedPayments(prefix);
  if (unbacked.length > 0) problems.push(`CONFIRMED payments with no confirmed hold: ${firstFive(unbacked)}`);
  const unpaid = await stack.probe.unpaidConfirms(prefix);
  if (unpaid.length > 0) problems.push(`holds confirmed without a CONFIRMED payment: ${firstFive(unpaid)}`);
  return problems;
}

const firstFive = (ids: string[]) => ids.slice(0, 5).join(', ');
