/**
 * `npm run reconcile`: one reconciliation pass against DATABASE_URL, recorded like the
 * scheduled ones. Prints the report as JSON; exits 1 when it found drift (for cron/CI).
 */
import { createDb } from '../activities/store/db';
import { reconcile } from '../activities/store/reconcile';
import { loadConfig } from '../config';

async function main(): Promise<number> {
  const db = createDb(loadConfig().databaseUrl);
  try {
    const report = await reconcile(db);
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
