/** Group commit (platform/group-commit.ts) with a fake batch runner: pure scheduling, no database. */
import { GroupCommit } from '../../platform/group-commit';

function recorder(inFlight: number, maxBatch = 100) {
  const batches: number[][] = [];
  let running = 0;
  let peak = 0;
  const release: (() => void)[] = [];
  const commit = new GroupCommit<number, number>(
    async (_key, items) => {
      batches.push(items);
      running += 1;
      peak = Math.max(peak, running);
      await new Promise<void>((r) => release.push(r));
      running -= 1;
      return items.map((i) => i * 10);
    },
    maxBatch,
    inFlight,
  );
  return { commit, batches, release, peak: () => peak };
}

const tick = () => new Promise((r) => setImmediate(r));

it('one batch in flight: a lone item goes at once, the rest wait for it and go together, in arrival order', async () => {
  const r = recorder(1);
  const answers = Array.from({ length: 6 }, (_, i) => r.commit.submit('row', i));
  await tick();
  expect(r.batches).toEqual([[0]]);
  r.release.shift()!();
  await tick();
  expect(r.batches).toEqual([[0], [1, 2, 3, 4, 5]]);
  r.release.shift()!();
  expect(await Promise.all(answers)).toEqual([0, 10, 20, 30, 40, 50]);
  expect(r.peak()).toBe(1);
  expect(r.commit.busy).toBe(false);
});

it('two in flight: the second batch goes while the first runs, never a third; every item answered once, in order', async () => {
  const r = recorder(2, 3);
  const answers = Array.from({ length: 9 }, (_, i) => r.commit.submit('row', i));
  await tick();
  expect(r.batches).toEqual([[0], [1]]);
  while (r.release.length > 0) {
    r.release.shift()!();
    await tick();
  }
  expect(r.batches).toEqual([[0], [1], [2, 3, 4], [5, 6, 7], [8]]);
  expect(await Promise.all(answers)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80]);
  expect(r.peak()).toBe(2);
  expect(r.commit.busy).toBe(false);
});

it('keys are independent, and a failed batch fails only its own items', async () => {
  const commit = new GroupCommit<string, string>(
    async (key, items) => {
      if (key === 'bad') throw new Error('row locked');
      return items.map((i) => `${key}:${i}`);
    },
    10,
    2,
  );
  const good = commit.submit('good', 'a');
  const bad = commit.submit('bad', 'b');
  await expect(bad).rejects.toThrow('row locked');
  await expect(good).resolves.toBe('good:a');
  expect(commit.busy).toBe(false);
});

it('a queued item whose signal aborts is withdrawn before any batch takes it; one already in a batch gets its answer', async () => {
  const r = recorder(1);
  const [inBatch, queued, stays] = [new AbortController(), new AbortController(), new AbortController()];
  const first = r.commit.submit('row', 0, inBatch.signal);
  const withdrawn = r.commit.submit('row', 1, queued.signal);
  const second = r.commit.submit('row', 2, stays.signal);
  await tick();
  inBatch.abort(new Error('too late: running'));
  queued.abort(new Error('deadline'));
  await expect(withdrawn).rejects.toThrow('deadline');
  r.release.shift()!();
  await tick();
  expect(r.batches).toEqual([[0], [2]]);
  r.release.shift()!();
  expect(await Promise.all([first, second])).toEqual([0, 20]);
  await expect(r.commit.submit('row', 3, AbortSignal.abort(new Error('gone')))).rejects.toThrow('gone');
  expect(r.commit.busy).toBe(false);
});
