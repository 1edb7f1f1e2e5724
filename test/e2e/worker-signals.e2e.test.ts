/**
 * The real worker process (worker.ts) on a Temporal dev server, signalled twice the way a
 * terminal's Ctrl-C beside a supervisor's SIGTERM does: it drains once, says it ignored the
 * repeat, and exits 0 (the SDK's own handlers went away after the first signal, so the second
 * one used to kill it mid-drain).
 */
import { startDevServer, type DevServer } from '../../platform/dev-server';
import { searchAttributeKeys } from '../../workflows/search-attributes';
import { freePort, runService, waitForHttp } from '../../platform/processes';
import { TEST_APP_DATABASE_URL, TEST_REDIS_URL } from '../helpers/env';

let temporal: DevServer;

beforeAll(async () => {
  temporal = await startDevServer({ searchAttributes: searchAttributeKeys, port: await freePort() });
});

afterAll(async () => {
  await temporal?.stop();
});

it('SIGINT then SIGTERM while it shuts down: one drain, the repeat ignored, exit 0', async () => {
  const metricsPort = await freePort();
  const worker = runService('worker.ts', {
    DATABASE_URL: TEST_APP_DATABASE_URL,
    REDIS_URL: TEST_REDIS_URL,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'worker-signals',
    WORKER_METRICS_PORT: String(metricsPort),
    LOG_FORMAT: 'json',
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    worker.child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  await waitForHttp(`http://127.0.0.1:${metricsPort}/healthz`, 60_000);
  worker.child.kill('SIGINT');
  await new Promise((r) => setTimeout(r, 20));
  worker.child.kill('SIGTERM');
  expect(await exited).toEqual({ code: 0, signal: null });
  const messages = worker
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => String((JSON.parse(line) as { msg?: string }).msg));
  expect(messages.filter((m) => m.startsWith('draining'))).toHaveLength(1);
  expect(messages.filter((m) => m.startsWith('already shutting down'))).toHaveLength(1);
  expect(messages).toContain('drained and stopped');
});
