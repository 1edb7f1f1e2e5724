/** KeyedCoalescer: one run per key at a time; requests during a run fold into one run after it. */
import { KeyedCoalescer } from '../../platform/keyed-coalescer';

/** A run that waits until the test lets it finish; records when each run started. */
function gatedWork() {
  const started: { key: string; at: number }[] = [];
  const gates: (() => void)[] = [];
  let clock = 0;
  const work = (key: string) =>
    new Promise<void>((resolve) => {
      started.push({ key, at: clock });
      gates.push(resolve);
    });
  const tick = () => (clock += 1);
  const finishOne = async () => {
    gates.shift()?.();
    await new Promise((r) => setImmediate(r));
  };
  return { started, work, tick, finishOne, open: () => gates.length };
}

describe('KeyedCoalescer', () => {
  it('requests made while a run is going fold into one more run, started after the last of them', async () => {
    const g = gatedWork();
    const c = new KeyedCoalescer(g.work);
    c.request('a');
    for (let i = 0; i < 50; i += 1) {
      g.tick();
      c.request('a');
    }
    expect(g.started).toHaveLength(1);
    const lastRequestAt = g.tick();
    c.request('a');
    await g.finishOne();
    expect(g.started).toHaveLength(2);
    // The second run started after every request, so it sees what they committed.
    expect(g.started[1].at).toBeGreaterThanOrEqual(lastRequestAt);
    await g.finishOne();
    expect(g.started).toHaveLength(2);
    expect(c.active).toBe(0);
    expect(c.runs).toBe(2);
    expect(c.folded).toBe(50);
  });

  it('a request after the runs ended runs again', async () => {
    const g = gatedWork();
    const c = new KeyedCoalescer(g.work);
    c.request('a');
    await g.finishOne();
    expect(c.active).toBe(0);
    c.request('a');
    expect(g.started).toHaveLength(2);
    await g.finishOne();
  });

  it('keys do not wait for each other', async () => {
    const g = gatedWork();
    const c = new KeyedCoalescer(g.work);
    c.request('a');
    c.request('b');
    c.request('a');
    expect(g.started.map((s) => s.key)).toEqual(['a', 'b']);
    expect(c.active).toBe(2);
    await g.finishOne(); // a's first run: its folded request runs next
    expect(g.started.map((s) => s.key)).toEqual(['a', 'b', 'a']);
    await g.finishOne();
    await g.finishOne();
    expect(c.active).toBe(0);
  });

  it('a failed run is reported and the folded request still runs', async () => {
    const errors: unknown[] = [];
    let calls = 0;
    let release!: () => void;
    const c = new KeyedCoalescer(
      () => {
        calls += 1;
        if (calls === 1) return new Promise<void>((_, reject) => (release = () => reject(new Error('redis down'))));
        return Promise.resolve();
      },
      (err) => errors.push(err),
    );
    c.request('a');
    c.request('a');
    release();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    expect(errors).toHaveLength(1);
    expect(calls).toBe(2);
    expect(c.active).toBe(0);
  });
});
