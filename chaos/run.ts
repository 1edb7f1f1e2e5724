/**
 * `npm run chaos`: the full chaos suite against the real stack; prints one table row per
 * scenario and exits non-zero if any scenario failed. `npm run chaos -- 1 7` runs a subset
 * (scenario numbers); `--reduced` runs them at the size `npm test` uses.
 */
import { FULL, REDUCED, runSuite } from './suite';
import { passed } from './table';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const picked = args.filter((a) => a !== '--reduced');
  const only = picked.length > 0 ? (s: { name: string }) => picked.includes(s.name.split(' ')[0]) : undefined;
  const rows = await runSuite(args.includes('--reduced') ? REDUCED : FULL, (line) => console.log(line), only);
  const failed = rows.filter((r) => !passed(r));
  console.log(
    failed.length === 0
      ? `\n[chaos] all ${rows.length} scenarios passed`
      : `\n[chaos] ${failed.length} of ${rows.length} scenarios FAILED`,
  );
  process.exit(failed.length === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error('[chaos] fatal', err);
  process.exit(1);
});
