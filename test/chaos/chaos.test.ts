/**
 * The chaos suite, reduced: the same scenario code as `npm run chaos` with fewer orders and
 * hostile requests, on the real stack (own Temporal dev server, own redis-server, own nats-server, the real
 * worker and API processes). Every scenario must end with its invariants intact.
 *
 * Each scenario is its own test with its own time limit, on one stack that `afterAll` always
 * stops (test/helpers/chaos.ts): a scenario that runs long on a slow machine fails alone, and
 * leaves no process behind to keep jest from exiting.
 */
import { REDUCED } from '../../chaos/suite';
import { chaosScenarioTests } from '../helpers/chaos';

/** One scenario's limit: the slowest takes well under a minute on a quiet 2-core machine. */
const SCENARIO_LIMIT_MS = 420_000;

describe('every scenario ends with nothing oversold, lost or stuck, and the invariants intact', () => {
  chaosScenarioTests(REDUCED, { store: 'postgresql' }, SCENARIO_LIMIT_MS);
});
