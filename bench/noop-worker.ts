/** Worker process for the no-op workflow baseline (same server, same connection settings). */
import { NativeConnection, Runtime, Worker, DefaultLogger } from '@temporalio/worker';

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: ['SIGTERM', 'SIGINT'] });
  const connection = await NativeConnection.connect({ address: process.argv[2] });
  const worker = await Worker.create({
    connection,
    taskQueue: 'bench-noop',
    workflowsPath: require.resolve('./noop-workflows'),
  });
  console.log('noop worker ready');
  await worker.run();
  await connection.close();
}
void main();
