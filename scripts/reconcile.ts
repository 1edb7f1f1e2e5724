/**
 * `npm run reconcile`: one reconciliation pass against DATABASE_URL, recorded like the
 * scheduled ones (payments PENDING past PAYMENT_SETTLE_MINUTES included). Prints the report
 * as JSON; exits 1 when it found drift or an unsettled payment (for cron/CI).
 */
import { createDb, dbOptions } from '../data/db';
import { findUnsettledPayments } from '../data/payments/payments';
import { reconcile } from '../data/stock/reconcile';
import { loadConfig } from '../config';

async function main(): Promise<number> {
  const config = loadConfig();
  const db = createDb(config.databaseUrl, dbOptions(config));
  try {
    // Read-only: unsettled payments are reported here; the scheduled check drives them.
    const unsettled = async () =>
      (await findUnsettledPayments(db, config.paymentSettleMinutes)).map(
        ({ orderId, paymentId, amountCents, receivedAt }) => ({
          orderId,
          paymentId,
          amountCents,
          receivedAt,
          action: 'REPORTED',
        }),
      );
    const report = await reconcile(db, unsettled);
    console.log(JSON.stringify(report, null, 2));
    return report.clean ? 0 : 1;
  } finally {
    await db.$disconnect();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error('[reconcile]', err);
    process.exitCode = 2;
  },
);
