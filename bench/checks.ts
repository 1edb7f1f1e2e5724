/**
 * The benchmark's checks, after every saga has closed: nothing oversold, every saga closed,
 * every payment settled, every hold's saga started, the ledger and level invariants intact,
 * no server error. Each failure is a sentence; none means `checksPassed`.
 */
import type { Client } from '@temporalio/client';
import type { Db } from '../data/db';
import { mariadbOf } from '../data/mariadb/db';
import { mariadbDrifts } from '../data/mariadb/reconcile';
import { findDrifts } from '../data/stock/reconcile';
import { checkFactsOnMariadb } from './mariadb-store';
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

/** What the checks read from the store once every saga has closed. */
async function storeFacts(db: Db, prefixes: readonly string[]) {
  const maria = mariadbOf(db);
  if (maria) return checkFactsOnMariadb(maria, prefixes, CAMPAIGN, { sku: PLAIN_SKU, warehouseCode: WAREHOUSE });
  const sold: Record<string, { units: number; confirmedPayments: number }> = {};
  for (const prefix of prefixes) sold[prefix] = await soldAndConfirmed(db, prefix);
  const [campaign] = await db.$queryRaw<
    { remaining: number; quota: number }[]
  >`SELECT remaining, quota FROM campaigns WHERE id = ${CAMPAIGN}`;
  const [level] = await db.$queryRaw<
    { reserved: number }[]
  >`SELECT reserved FROM inventory_levels WHERE sku = ${PLAIN_SKU} AND warehouse_code = ${WAREHOUSE}`;
  return {
    sold,
    campaignRemaining: campaign?.remaining,
    levelReserved: level?.reserved,
    openHolds: await db.reservation.count({ where: { status: 'RESERVED' } }),
    pendingPayments: await db.payment.count({ where: { state: 'PENDING' } }),
    unstartedSagas: await db.sagaStart.count({ where: { startedAt: null } }),
  };
}

export async function runChecks(
  db: Db,
  client: Client,
  limits: { units: number; plainUnits: number; sustainedUnits: number },
  samples: Sample[],
): Promise<string[]> {
  const failures: string[] = [];
  const scenarios = [
    ['flash sale', 'b-', limits.units],
    ['plain orders', 'p-', limits.plainUnits],
    ['sustained winners', 's-', limits.sustainedUnits],
  ] as const;
  const facts = await storeFacts(
    db,
    scenarios.map(([, prefix]) => prefix),
  );
  for (const [label, prefix, limit] of scenarios) {
    const { units, confirmedPayments } = facts.sold[prefix];
    if (units > limit) failures.push(`OVERSOLD (${label}): ${units} units sold > ${limit}`);
    if (units !== confirmedPayments)
      failures.push(`${label}: ${units} units sold but ${confirmedPayments} payments confirmed`);
  }
  if (facts.campaignRemaining !== undefined && facts.campaignRemaining < 0)
    failures.push(`campaign pool below zero: ${facts.campaignRemaining}`);
  if (facts.levelReserved !== undefined && facts.levelReserved !== 0)
    failures.push(`plain level still has ${facts.levelReserved} reserved with every saga closed`);

  const running = (await client.workflow.count(`WorkflowType = 'orderWorkflow' AND ExecutionStatus = 'Running'`)).count;
  if (running > 0) failures.push(`${running} order sagas still running`);
  if (facts.openHolds > 0) failures.push(`${facts.openHolds} holds still open`);
  if (facts.pendingPayments > 0) failures.push(`${facts.pendingPayments} payments not settled (PENDING)`);
  if (facts.unstartedSagas > 0) failures.push(`${facts.unstartedSagas} holds whose saga was never marked started`);

  // The reconciliation's drift checks (each store's own: data/stock/reconcile.ts dispatches);
  // on MariaDB also the quick check of the flash sale's pool and users' counts against their holds.
  const maria = mariadbOf(db);
  const drifts = [...(await findDrifts(db)).drifts, ...(maria ? await mariadbDrifts(maria) : [])];
  if (drifts.length > 0) failures.push(`invariants broken: ${JSON.stringify(drifts).slice(0, 2000)}`);
  const errors = samples.filter((s) => /^(pay )?5\d\d/.test(s.outcome) && !/^(pay )?503/.test(s.outcome));
  if (errors.length > 0)
    failures.push(`${errors.length} server errors (${[...new Set(errors.map((e) => e.outcome))].join(', ')})`);
  return failures;
}
