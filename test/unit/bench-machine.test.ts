/**
 * The bench's honest-figures rule (bench/machine.ts): a busy CPU just before the run, or other
 * processes' CPU during it, marks the report noisy; the bench's own processes never do.
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { busyShare, noisyRule, watchMachine } from '../../bench/machine';

it('is noisy above 25% of the CPU busy just before the run, or above 10% of the CPU used by others during it', () => {
  expect(noisyRule(0.2, 0)).toEqual({ noisy: false, reasons: [] });
  expect(noisyRule(0.3, 0).noisy).toBe(true);
  expect(noisyRule(0.3, 0).reasons[0]).toMatch(/CPU was 30% busy in the seconds before the run \(> 25%\)/);
  expect(noisyRule(0, 0.25).reasons).toEqual(["other processes used 25% of the machine's CPU during the run (> 10%)"]);
});

it('measures the machine busy: a process spinning on one core of N shows', async () => {
  const child = spawn(process.execPath, ['-e', 'const end = Date.now() + 1500; while (Date.now() < end);']);
  try {
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await busyShare(1000)).toBeGreaterThan(0.8 / os.cpus().length);
  } finally {
    child.kill();
  }
});

it('counts a busy process outside the bench as other CPU, and its own children not', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-machine-'));
  // Named executables, so the figures can tell these two apart from anything else running here.
  const [outside, inside] = [path.join(dir, 'busyoutside'), path.join(dir, 'busyinside')];
  copyFileSync(process.execPath, outside);
  copyFileSync(process.execPath, inside);
  const spin = 'const end = Date.now() + 2500; while (Date.now() < end);';
  try {
    const watch = watchMachine(0, 200);
    // Started through a shell that exits at once: the process is re-parented, outside our tree.
    spawnSync('sh', ['-c', `"${outside}" -e '${spin}' >/dev/null 2>&1 &`]);
    const child = spawn(inside, ['-e', spin]);
    await new Promise((resolve) => child.on('exit', resolve));
    const load = watch.stop();
    const names = load.otherProcessesTop.map((p) => p.name);
    expect(names).toContain('busyoutside');
    expect(names).not.toContain('busyinside');
    expect(load.otherProcessesTop.find((p) => p.name === 'busyoutside')!.cores).toBeGreaterThan(0.1);
    expect(load.samples).toBeGreaterThan(3);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
