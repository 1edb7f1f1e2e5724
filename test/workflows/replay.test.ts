/**
 * Every committed history (test/workflows/histories, written by `npm run histories:capture`)
 * replays against the current workflow code, bundled from the same workflowsPath the worker
 * uses. Sagas run for days: a change that alters the commands a workflow issues breaks the
 * runs already in flight unless it is behind `patched()` (CONTRIBUTING.md "Changing workflow code").
 * A workflow type without a committed history fails too, so a new type cannot skip this.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import * as workflows from '../../workflows';
import { loadHistories, replayAll } from '../helpers/histories';

Runtime.install({ logger: new DefaultLogger('WARN') });

const histories = loadHistories();
const registered = Object.entries(workflows)
  .filter(([, fn]) => typeof fn === 'function')
  .map(([name]) => name)
  .sort();

it('every workflow type the worker registers has a committed history', () => {
  const recorded = new Set(histories.map((h) => h.workflowType));
  expect(registered.filter((type) => !recorded.has(type))).toEqual([]);
});

it('every committed history replays against the current workflow code', async () => {
  expect(histories.length).toBeGreaterThan(0);
  const { replayed, failures } = await replayAll({ workflowsPath: require.resolve('../../workflows') });
  expect(failures).toEqual([]);
  expect(replayed).toBe(histories.length);
});
