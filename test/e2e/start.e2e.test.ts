/**
 * `npm start` as a person runs it (test/helpers/npm-start.ts: real processes, free ports, a
 * database of their own):
 *
 *  - the addresses are printed only once the API answers and the worker polls: an order placed
 *    the moment they show is held and its saga is running, and its events reach the NATS
 *    JetStream npm start runs (its URL is in the banner); the bundle report is not printed;
 *  - `kill <pid of npm start>` (SIGTERM) stops every process it started and frees every port;
 *  - Ctrl-C (SIGINT to the terminal's whole process group) reaches the worker as one signal:
 *    it drains once and exits 0.
 */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { allGone, descendants, isReady, msg, npmStart, ports, setUp, tearDown, TOKEN } from '../helpers/npm-start';

/** The subjects of the messages in npm start's JetStream stream, once `subject` is among them (or after 10 s). */
async function streamedSubjects(url: string, subject: string): Promise<string[]> {
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    let subjects: string[] = [];
    for (
      const until = Date.now() + 10_000;
      !subjects.includes(subject) && Date.now() < until;
      await new Promise((r) => setTimeout(r, 200))
    ) {
      const info = await jsm.streams.info('STOCKHOLD_EVENTS').catch(() => undefined);
      subjects = [];
      for (let seq = info?.state.first_seq ?? 1; info && seq <= info.state.last_seq; seq++) {
        const m = await jsm.streams.getMessage('STOCKHOLD_EVENTS', { seq });
        if (m) subjects.push(m.subject);
      }
    }
    return subjects;
  } finally {
    await nc.close();
  }
}

beforeAll(setUp);
afterAll(tearDown);

it('the addresses show once the API answers and the worker polls: an order placed then is held and its saga runs; SIGTERM to npm stops everything', async () => {
  const run = npmStart();
  await run.explained(async () => {
    await run.waitFor(isReady);
    const base = `http://127.0.0.1:${ports.PORT}`;
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const placed = await fetch(`${base}/orders`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        orderId: 'start-e2e-1',
        userId: 'u-1',
        lines: [{ sku: 'STRAWBERRY-500G', warehouseCode: 'SH-01', quantity: 1 }],
      }),
    });
    expect(placed.status).toBe(201);
    // The saga answers its query from the worker at once: no wait for a worker to show up.
    let status = '';
    for (
      const until = Date.now() + 5_000;
      status !== 'AWAITING_PAYMENT' && Date.now() < until;
      await new Promise((r) => setTimeout(r, 100))
    ) {
      const res = await fetch(`${base}/orders/start-e2e-1`, { headers });
      status = res.ok ? String(((await res.json()) as { status?: string }).status) : `${res.status}`;
    }
    expect(status).toBe('AWAITING_PAYMENT');
    // Its events reach npm start's own NATS JetStream (NATS_PORT), whose URL the banner printed.
    const natsUrl = `nats://127.0.0.1:${ports.NATS_PORT}`;
    expect(run.entries().some((e) => e.name === 'start' && msg(e).startsWith(`NATS       ${natsUrl}`))).toBe(true);
    expect(await streamedSubjects(natsUrl, 'stockhold.events.order.held._._')).toContain(
      'stockhold.events.order.held._._',
    );
    // The order of the log: the API listened and the worker polled before the addresses.
    const entries = run.entries();
    const ready = entries.findIndex(isReady);
    expect(entries.findIndex((e) => e.name === 'worker' && msg(e).startsWith('polling start-e2e'))).toBeLessThan(ready);
    expect(entries.findIndex((e) => e.name === 'api' && msg(e).startsWith('Server listening'))).toBeLessThan(ready);
    expect(entries.findIndex((e) => e.name === 'start' && msg(e).startsWith('starting…'))).toBeLessThan(ready);
    // The worker's bundle report is debug: not at the default level.
    expect(entries.some((e) => /webpack|Workflow bundle created/.test(msg(e)))).toBe(false);

    const pids = descendants(run.npm.pid!);
    expect(pids.length).toBeGreaterThanOrEqual(5); // start.ts, dev server, nats-server, worker, API
    process.kill(run.npm.pid!, 'SIGTERM');
    const exit = await run.exited;
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    // npm waited for scripts/start.ts, which waited for its children.
    expect(await allGone(pids, 5_000)).toEqual({ survivors: [], busyPorts: [] });
    expect(run.entries().filter((e) => e.name === 'start' && msg(e) === 'stopped')).toHaveLength(1);
  });
}, 90_000);

it('Ctrl-C (SIGINT to the whole process group): the worker gets one signal, drains once and exits 0', async () => {
  const run = npmStart();
  await run.explained(async () => {
    await run.waitFor(isReady);
    const pids = descendants(run.npm.pid!);
    process.kill(-run.npm.pid!, 'SIGINT');
    await run.exited;
    expect(await allGone(pids, 5_000)).toEqual({ survivors: [], busyPorts: [] });
    const worker = run.entries().filter((e) => e.name === 'worker');
    expect(worker.filter((e) => msg(e).startsWith('draining'))).toHaveLength(1);
    expect(worker.filter((e) => msg(e).startsWith('already shutting down'))).toHaveLength(0);
    expect(worker.some((e) => msg(e) === 'drained and stopped')).toBe(true);
    expect(run.entries().some((e) => e.name === 'start' && msg(e) === 'worker exited (0)')).toBe(true);
  });
}, 90_000);
