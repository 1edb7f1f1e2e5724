/**
 * schemathesis, a client nobody here wrote, over the published OpenAPI document: every
 * operation, public and admin, on the real API (Temporal dev server, worker, PostgreSQL,
 * Redis) listening on a free port. Fixed seed and bounded examples, so a failure is
 * reproducible with the command docs/testing.md "The API fuzz test (schemathesis)" gives. Checks: never a 5xx, and every
 * answer matches the schema the document declares for its status.
 */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { SCHEMATHESIS } from '../../platform/dev-server';
import { useAppStack } from '../helpers/app';
import { invariantViolations, stock } from '../helpers/db';

jest.setTimeout(300_000);

const stack = useAppStack('dev', 'fuzz-test', {
  RESERVATION_TTL_SECONDS: '600',
  ORDER_RATE_LIMIT_PER_MINUTE: '100000',
});

/** The run docs/testing.md "The API fuzz test (schemathesis)" shows; `base` is where the API listens. */
function schemathesisArgs(base: string): string[] {
  return [
    'run',
    `${base}/docs/json`,
    '--checks',
    process.env.FUZZ_CHECKS ?? 'not_a_server_error,response_schema_conformance,unsupported_method',
    '--header',
    'Authorization: Bearer test-admin-token',
    '--seed',
    process.env.FUZZ_SEED ?? '20261130',
    '--max-examples',
    process.env.FUZZ_MAX_EXAMPLES ?? '15',
    '--generation-database',
    'none',
    '--workers',
    '1',
    '--request-timeout',
    '20',
    '--no-color',
  ];
}

function run(command: string, args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    // Its caches go to .data (ignored), not into the work tree.
    const cwd = path.resolve(__dirname, '../../.data/schemathesis');
    mkdirSync(cwd, { recursive: true });
    const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: '1' } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

it('schemathesis finds no 5xx and no answer outside its schema, on every operation', async () => {
  const { app, db } = stack;
  await stock(db, 'APPLE', 'W1', 1000);
  await stock(db, 'APPLE', 'W2', 1000);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  const { code, output } = await run(SCHEMATHESIS, schemathesisArgs(`http://127.0.0.1:${port}`));
  const summary = output
    .split('\n')
    .filter((l) => /passed|failed|error|Failures|Errors|Warning/i.test(l))
    .slice(-30)
    .join('\n');
  if (code !== 0 || process.env.FUZZ_VERBOSE) console.log(output);
  expect({ code, summary }).toEqual({ code: 0, summary: expect.any(String) });
  expect(await invariantViolations(db)).toEqual([]);
});
