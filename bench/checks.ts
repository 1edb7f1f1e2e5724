/**
 * The benchmark's checks, after every saga has closed: nothing oversold, every saga closed,
 * every payment settled, every hold's saga started, the ledger and level invariants intact,
 * no server error. Each failure is a sentence; none means `checksPassed`.
 */
import type { Client } from '@temporalio/client';
import type { Db } from '../data/db';
import { findDrifts } from '../data/stock/reconcile';
import type { Sample } from './load';
import { CAMPAIGN, PLAIN_SKU, WAREHOUSE } from './scenario';

/** Units sold (confirmed holds, late re-reserves included) and payments confirmed, for orders with this id prefix. */
async function soldAndConfirmed(db: Db, prefix: string): Promise<{ units: number; confirmedPayments: number }> {
  const [sold] = await db.$queryRaw<{ units: number }[]>`
    SELECT COALESCE(SUM(l.quantity), 0)::int AS units FROM reservations r JOIN reservation_lines l ON l.reservation_id = r.id
     WHERE r.order_id LIKE ${`${prefix}%`} AND r.status = 'CONFIRMED'`;
  const [paid] = await db.$queryRaw<
    { n: number }[]
  >`SELECT count(*)::int AS n FROM payments WHERE order_id LIKE ${`${prefix}%`} AND state = 'CONFIRMED'`;
  return { units: sold.units, confirmedPayments: paid.n };
}

export async function runChecks(
  db: Db,
  client: Client,
  limits: { units: number; plainUnits: number; sustainedUnits: number },
  samples: Sample[],
): Promise<string[]> {
  const failures: string[] = [];
  for (const [label, prefix, limit] of [
    ['flash sale', 'b-', limits.units],
    ['plain orders', 'p-', limits.plainUnits],
    ['sustained winners', 's-', limits.sustainedUnits],
  ] as const) {
    const { units, confirmedPayments } = await soldAndConfirmed(db, prefix);
    if (units > limit) failures.push(`OVERSOLD (${label}): ${units} units sold > ${limit}`);
    if (units !== confirmedPayments)
      failures.push(`${label}: ${units} units sold but ${confirmedPayments} payments confirmed`);
  }
  const [campaign] = await db.$queryRaw<
    { remaining: number; quota: number }[]
  >`SELECT remaining, quota FROM campaigns WHERE id = ${CAMPAIGN}`;
  if (campaign && campaign.remaining < 0) failures.push(`campaign pool below zero: ${campaign.remaining}`);
  const [level] = await db.$queryRaw<
    { reserved: number }[]
  >`SELECT reserved FROM inventory_levels WHERE sku = ${PLAIN_SKU} AND warehouse_code = ${WAREHOUSE}`;
  if (level && level.reserved !== 0)
    failures.push(`plain level still has ${level.reserved} reserved with every saga closed`);

  const running = (await client.workflow.count(`WorkflowType = 'orderWorkflow' AND ExecutionStatus = 'Running'`)).count;
  if (running > 0) failures.push(`${running} order sagas still running`);
  const open = await db.reservation.count({ where: { status: 'RESERVED' } });
  if (open > 0) failures.push(`${open} holds still open`);
  const pending = await db.payment.count({ where: { state: 'PENDING' } });
  if (pending > 0) failures.push(`${pending} payments not settled (PENDING)`);
  const unstarted = await db.sagaStart.count({ where: { startedAt: null } });
  if (unstarted > 0) failures.push(`${unstarted} holds whose saga was never marked started`);

  const drifts = (await findDrifts(db)).drifts;
  if (drifts.length > 0) failures.push(`invariants broken: ${JSON.stringify(drifts).slice(0, 2000)}`);
  const errors = samples.filter((s) => /^(pay )?5\d\d/.test(s.outcome) && !/^(pay )?503/.test(s.outcome));
  if (errors.length > 0)
    failures.push(`${errors.length} server errors (${[...new Set(errors.map((e) => e.outcome))].join(', ')})`);
  return failures;
}
