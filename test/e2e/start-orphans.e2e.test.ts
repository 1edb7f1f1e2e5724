/**
 * `npm start` losing a parent without a signal passed on:
 *
 *  - scripts/start.ts dies without stopping its children (SIGKILL, a crash): the worker and
 *    the API notice their parent is gone and drain, the Temporal dev server gets its
 *    parent-death signal;
 *  - npm dies of a signal it does not pass on (SIGHUP): scripts/start.ts notices and stops
 *    everything as on SIGTERM.
 *
 * Either way nothing keeps running or holds a port.
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

it('npm gets a signal it does not pass on (SIGHUP) and dies: scripts/start.ts sees its parent gone and stops everything', async () => {
  const run = npmStart();
  await run.explained(async () => {
    await run.waitFor(isReady);
    const pids = descendants(run.npm.pid!);
    process.kill(run.npm.pid!, 'SIGHUP');
    expect(await allGone(pids, 20_000)).toEqual({ survivors: [], busyPorts: [] });
    expect(run.entries().some((e) => e.name === 'start' && /^stopping \(parent \d+ gone\)$/.test(String(e.msg)))).toBe(
      true,
    );
  });
}, 90_000);
