/**
 * The chaos suite inside `npm test` (test/chaos/): one stack opened before the scenarios and
 * always stopped after them, each scenario its own test with its own time limit, so a scenario
 * that stalls on a slow machine fails alone and leaves no process behind to keep jest running.
 */
import { openSuite, scenarios, type OpenSuite } from '../../chaos/suite';
import type { Scenario, Size } from '../../chaos/scenario';
import type { StackStore } from '../../chaos/stack';
import { failed, formatHeader, formatRow, type Row } from '../../chaos/table';

/** A scenario's number, as `npm run chaos -- 1 7` takes it. */
export const numberOf = (s: { name: string }) => s.name.split(' ')[0];

/**
 * Registers the stack's beforeAll/afterAll and one test per scenario in `picked` (all when
 * omitted): each must run (not be skipped on the store) and end with nothing oversold, lost or
 * stuck and the invariants intact; `check` asserts what the scenario's notes must show.
 */
export function chaosScenarioTests(
  size: Size,
  on: StackStore,
  limitMs: number,
  picked?: readonly string[],
  check: (scenario: Scenario, row: Row) => void = () => undefined,
): void {
  let suite: OpenSuite | undefined;
  beforeAll(async () => {
    suite = await openSuite(size, on);
    console.log(formatHeader());
  }, 180_000);
  afterAll(async () => {
    await suite?.stop();
  }, 120_000);

  for (const scenario of scenarios.filter((s) => picked === undefined || picked.includes(numberOf(s)))) {
    it(
      scenario.name,
      async () => {
        if (suite === undefined) throw new Error('the chaos stack did not start');
        const row = await suite.run(scenario);
        console.log(formatRow(row));
        expect(row.skipped).toBeUndefined();
        expect(failed(row) ? row.problems : []).toEqual([]);
        expect({ oversold: row.oversold, lost: row.lost, stuck: row.stuck }).toEqual({
          oversold: 0,
          lost: 0,
          stuck: 0,
        });
        expect(failed(row)).toBe(false);
        check(scenario, row);
      },
      limitMs,
    );
  }
}
