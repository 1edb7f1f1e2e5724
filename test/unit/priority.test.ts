/** The closing side's CPU priority under `npm start` and the bench (platform/priority.ts). */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { closingNice, DEFAULT_CLOSING_NICE, lowerPriority } from '../../platform/priority';

it('lowers every thread of a running child to the nice value', async () => {
  // node has several threads from the start (V8 platform workers): all of them are set.
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 10000)']);
  try {
    const { readdirSync, readFileSync } = await import('node:fs');
    // Wait for the child's threads (a fixed 300 ms sleep was too short on a busy machine).
    const threads = () => readdirSync(`/proc/${child.pid}/task`);
    for (const until = Date.now() + 10_000; threads().length < 2 && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200));
    lowerPriority(child.pid, 7);
    expect(os.getPriority(child.pid!)).toBe(7);
    const tids = threads();
    expect(tids.length).toBeGreaterThan(1);
    // Field 19 of /proc/<pid>/task/<tid>/stat is the thread's nice value.
    for (const tid of tids)
      expect(readFileSync(`/proc/${child.pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ')[16]).toBe('7');
  } finally {
    child.kill();
  }
});

it('reads CLOSING_NICE: default, 0 to disable, and refuses nonsense', () => {
  expect(closingNice({})).toBe(DEFAULT_CLOSING_NICE);
  expect(closingNice({ CLOSING_NICE: '0' })).toBe(0);
  expect(closingNice({ CLOSING_NICE: '15' })).toBe(15);
  expect(() => closingNice({ CLOSING_NICE: '20' })).toThrow(/0\.\.19/);
  expect(() => closingNice({ CLOSING_NICE: 'low' })).toThrow(/CLOSING_NICE/);
});
