/**
 * `npm start` whose scripts/start.ts dies without stopping its children (SIGKILL, a crash):
 * the worker and the API notice their parent is gone and drain, the Temporal dev server gets
 * its parent-death signal; nothing keeps running or holds a port.
 */
import { allGone, commandLine, descendants, isReady, npmStart, setUp, tearDown } from '../helpers/npm-start';

beforeAll(setUp);
afterAll(tearDown);

it('scripts/start.ts killed outright (SIGKILL): the dev server, worker and API stop on their own', async () => {
  const run = npmStart();
  await run.explained(async () => {
    await run.waitFor(isReady);
    const pids = descendants(run.npm.pid!);
    const start = pids.find((pid) => commandLine(pid).includes('scripts/start.ts'))!;
    process.kill(start, 'SIGKILL');
    // The worker and the API notice within 0.5 s and drain; the dev server gets SIGTERM at once.
    expect(await allGone(pids, 20_000)).toEqual({ survivors: [], busyPorts: [] });
    await run.exited;
  });
}, 90_000);
