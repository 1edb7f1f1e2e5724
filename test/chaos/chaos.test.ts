/**
 * The chaos suite, reduced: the same scenario code as `npm run chaos` with fewer orders and
 * hostile requests, on the real stack (own Temporal dev server, own redis-server, own nats-server, the real
 * worker and API processes). Every scenario must end with its invariants intact.
 *
 * Each scenario is its own test with its own time limit, on one stack that `afterAll` always
 * stops: a scenario that runs long on a slow machine fails alone, and leaves no process behind
 * to keep jest from exiting.
 */
import { openSuite, REDUCED, scenarios, type OpenSuite } from '../../chaos/suite';
import { formatHeader, formatRow, passed } from '../../chaos/table';

/** One scenario's limit: the slowest takes about 2 minutes on a quiet 2-core machine. */
const SCENARIO_LIMIT_MS = 420_000;

let suite: OpenSuite | undefined;

beforeAll(async () => {
  suite = await openSuite(REDUCED);
  console.log(formatHeader());
}, 180_000);

afterAll(async () => {
  await suite?.stop();
}, 120_000);

describe('every scenario ends with nothing oversold, lost or stuck, and the invariants intact', () => {
  for (const scenario of scenarios) {
    it(
      scenario.name,
      async () => {
        if (suite === undefined) throw new Error('the chaos stack did not start');
        const row = await suite.run(scenario);
        console.log(formatRow(row));
        expect(row.skipped).toBeUndefined();
        expect(row.problems).toEqual([]);
        expect({ oversold: row.oversold, lost: row.lost, stuck: row.stuck }).toEqual({
          oversold: 0,
          lost: 0,
          stuck: 0,
        });
        expect(passed(row)).toBe(true);
      },
      SCENARIO_LIMIT_MS,
    );
  }
});
