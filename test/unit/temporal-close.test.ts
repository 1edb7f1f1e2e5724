/**
 * Closing a Temporal connection while one of its calls waits to be retried. The client's gRPC
 * retry interceptor retries from a timer that `Connection.close()` leaves running; when it fires
 * after the close, grpc-js throws "Channel has been shut down" from the timer and the process
 * dies of an uncaught exception (it failed a CI run: a test's API closed its lazy client while
 * a saga start was retrying). `closeConnection` (platform/temporal.ts) lets the scheduled
 * retries end first. Each case runs in a child process, which the crash would kill.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../..');

/** A call to a port where nothing listens (so it is retried), then a close after 300 ms. */
function closeWhileRetrying(close: 'closeConnection' | 'connection.close'): { status: number | null; stderr: string } {
  const script = `
    const { Connection } = require('@temporalio/client');
    const { closeConnection, lazyConnection } = require('./platform/temporal');
    const fenced = ${close === 'closeConnection'};
    const options = { address: '127.0.0.1:1', connectTimeout: 200 };
    const connection = fenced ? lazyConnection(options) : Connection.lazy(options);
    connection.workflowService.getSystemInfo({}).catch(() => undefined);
    setTimeout(async () => {
      await (fenced ? closeConnection(connection) : connection.close());
      // Longer than any retry delay (5 s at most, jittered): a timer left running fires now.
      setTimeout(() => console.log('survived'), 6500);
    }, 300);
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], {
    cwd: root,
    encoding: 'utf8',
    timeout: 20_000,
  });
  return { status: run.status, stderr: run.stderr + run.stdout };
}

it('closeConnection while a call waits for its retry: the process lives on', () => {
  expect(closeWhileRetrying('closeConnection')).toEqual({ status: 0, stderr: 'survived\n' });
}, 30_000);

it('the SDK bug it guards against is real: Connection.close() then the retry timer throws', () => {
  const run = closeWhileRetrying('connection.close');
  expect(run.status).not.toBe(0);
  expect(run.stderr).toContain('Channel has been shut down');
}, 30_000);
