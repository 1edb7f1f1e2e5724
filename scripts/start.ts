/**
 * `npm start` (after scripts/bootstrap.sh): migrate (as the owner, then the service role's
 * privileges — created locally on first run), seed an empty database, start a
 * Temporal dev server unless TEMPORAL_ADDRESS names one, then the worker and the API as
 * child processes (in development the API's ops port is PORT + 1 unless OPS_PORT is set).
 * Ctrl-C stops all of it, in reverse order.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createDb } from '../data/stock/db';
import { ConfigError, loadConfig } from '../config';
import { startDevServer, type DevServer } from '../platform/dev-server';
import { closingNice, lowerPriority } from '../platform/priority';
import { connectClient, ensureSearchAttributes } from '../platform/temporal';
import type { Connection } from '@temporalio/client';
import { migrate, migrateOptions } from '../prisma/migrate';
import { demoTransfer, seedIfEmpty } from '../prisma/seed';
import { startDemoTransfer } from './demo-transfer';

const ROOT = path.resolve(__dirname, '..');
const say = (line: string) => console.log(`[start] ${line}`);

function run(name: string, script: string, env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, script)], { cwd: ROOT, env, stdio: 'inherit' });
  child.once('exit', (code, signal) => say(`${name} exited (${signal ?? code})`));
  return child;
}

async function main(): Promise<void> {
  const config = loadConfig();
  say(`migrating ${new URL(config.migrationDatabaseUrl).pathname.slice(1)} as ${decodeURIComponent(new URL(config.migrationDatabaseUrl).username)}`);
  await migrate(config.migrationDatabaseUrl, (line) => say(line), migrateOptions(config));
  // Seeding is setup, done as the owner; the worker and the API connect as the service role.
  const db = createDb(config.migrationDatabaseUrl, { ssl: config.database.ssl });
  const seeded = await seedIfEmpty(db);
  if (seeded) say('seeded demo data (STRAWBERRY-500G, BLUEBERRY-125G, MANGO-1KG, perishable LYCHEE-1KG in lots)');
  await db.$disconnect();

  let devServer: DevServer | undefined;
  const env: NodeJS.ProcessEnv = { ...process.env };
  // A browser cannot send a key: in development /docs and /metrics get an ops port of their own.
  if (!env.OPS_PORT && env.NODE_ENV !== 'production') env.OPS_PORT = String(config.api.port + 1);
  if (!process.env.TEMPORAL_ADDRESS) {
    const port = Number(config.temporal.address.split(':')[1]);
    const uiPort = Number(process.env.TEMPORAL_UI_PORT ?? 8233);
    say(`starting Temporal dev server on :${port} (UI :${uiPort}, data in .data/temporal.db)`);
    devServer = await startDevServer({ port, uiPort, dbFile: path.join(ROOT, '.data', 'temporal.db'), namespace: config.temporal.namespace });
    env.TEMPORAL_ADDRESS = devServer.address;
  } else {
    const client = await connectClient(config);
    await ensureSearchAttributes(client.connection as Connection, config.temporal.namespace);
    await client.connection.close();
  }

  const worker = run('worker', 'worker.ts', env);
  const children = [worker, run('api', 'api/server.ts', env)];
  // The closing side yields the CPU to the request path under a burst (platform/priority.ts).
  const nice = closingNice();
  lowerPriority(worker.pid, nice);
  lowerPriority(devServer?.process.pid, nice);
  const ops = loadConfig(env).api.ops ?? config.api;
  say(`API        http://${config.api.host}:${config.api.port}`);
  say(`API docs   http://${ops.host}:${ops.port}/docs${ops === config.api ? ' (scope ops)' : ' (ops port: /docs, /metrics)'}`);
  say(apiKeyLine(config));
  if (devServer) say(`Temporal UI http://127.0.0.1:${process.env.TEMPORAL_UI_PORT ?? 8233}`);
  say('Ctrl-C stops everything');
  // The dev server is plain: TLS settings are for a TEMPORAL_ADDRESS of your own.
  if (seeded) void putDemoTransferInFlight(devServer ? { ...config, temporal: { ...config.temporal, address: devServer.address, tls: undefined, apiKey: undefined } } : config);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    say('stopping');
    await Promise.all(
      children.map(
        (c) => new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
        }),
      ),
    );
    await devServer?.stop();
    say('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  // If either child dies on its own, bring the rest down rather than run half a service.
  for (const c of children) c.once('exit', () => void stop());
}

/**
 * The key the README's curl examples send. The development default is printed; a key set in
 * the environment is not (it is a secret), and production never prints one.
 */
function apiKeyLine(config: ReturnType<typeof loadConfig>): string {
  if (process.env.NODE_ENV === 'production' || process.env.ADMIN_TOKEN) return 'API key    ADMIN_TOKEN from the environment (every scope); more keys: npm run keys -- create';
  return `API key    ${config.adminToken}   (development bootstrap key, every scope: -H 'authorization: Bearer ${config.adminToken}')`;
}

/** Once the worker polls, the demo transfer is requested and shipped (a fresh database only). */
async function putDemoTransferInFlight(config: ReturnType<typeof loadConfig>): Promise<void> {
  try {
    const client = await connectClient(config);
    const stage = await client.withDeadline(Date.now() + 60_000, () => startDemoTransfer(client, config));
    say(`demo transfer ${demoTransfer.transferId}: ${stage} (receive it: POST /transfers/${demoTransfer.transferId}/receive)`);
    await client.connection.close();
  } catch (err) {
    say(`demo transfer not started: ${(err as Error).message}`);
  }
}

main().catch((err) => {
  console.error(`[start] ${err instanceof ConfigError ? `configuration refused: ${err.message}` : (err as Error).message}`);
  process.exit(1);
});
