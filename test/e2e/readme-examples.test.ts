/**
 * The documentation's API examples are executable and run here, so they cannot drift: every
 * ```sh block of the pages in EXAMPLE_PAGES, page by page in that order and top to bottom in
 * each, is one bash script run against the real API listening on a free port (BASE_URL), on
 * the seeded demo data, with a worker on a Temporal dev server. Later blocks see what earlier
 * ones did (docs/testing.md, "The documentation examples"). Each line that starts with `curl`,
 * or assigns one's output (`ID=$(curl …`), is a step; the comment after it that starts with a
 * status (`# 201 …`) is what it must answer — without one, any 2xx. Every step is checked, in
 * order.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { seed } from '../../prisma/seed';
import { invariantViolations } from '../helpers/db';
import { useAppStack } from '../helpers/app';

const ROOT = path.join(__dirname, '../..');
/** The pages whose `sh` blocks run, in this order (campaigns first, as they always ran). */
const EXAMPLE_PAGES = ['docs/flash-sales-and-pre-sales.md', 'docs/api.md', 'README.md'] as const;
/** The secrets the examples use: the development defaults. */
const stack = useAppStack('dev', 'readme-examples-test', { ADMIN_TOKEN: 'dev-admin-token', WEBHOOK_SECRET: 'dev-webhook-secret' });

/** A step: the curl line and the status its comment promises (undefined: any 2xx). */
interface Step {
  readonly command: string;
  readonly status?: number;
}

/** A line that runs one curl as a step: `curl …`, or `NAME=$(curl …` that keeps its output. */
const STEP = /^(?:[A-Za-z_][A-Za-z0-9_]*=\$\()?curl /;

function examples(markdown: string): { script: string; steps: Step[] } {
  const blocks = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  const steps: { command: string; status?: number }[] = [];
  for (const block of blocks) {
    let last: { command: string; status?: number } | undefined;
    for (const line of block.split('\n')) {
      if (STEP.test(line)) steps.push((last = { command: line }));
      const promised = /^# (\d{3})\b/.exec(line);
      if (promised && last && last.status === undefined) last.status = Number(promised[1]);
    }
  }
  return { script: blocks.join('\n'), steps };
}

/** Runs the examples with curl wrapped so that each call's status is logged, in order. */
function run(script: string, baseUrl: string): Promise<{ code: number; output: string; statuses: number[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'readme-'));
  const log = path.join(dir, 'statuses');
  const prelude = `set -eu
curl() {
  local body code
  body=$(mktemp)
  code=$(command curl -sS -o "$body" -w '%{http_code}' "$@") || code=000
  cat "$body"; echo; rm -f "$body"
  echo "$code" >> "${log}"
}
`;
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', prelude + script], { env: { ...process.env, BASE_URL: baseUrl } });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('close', (code) => {
      let statuses: number[] = [];
      try {
        statuses = readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map(Number);
      } catch {
        // no step ran
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: code ?? -1, output, statuses });
    });
  });
}

it('every ```sh example in the docs and README answers what it says, step by step', async () => {
  const { db, app } = stack;
  await seed(db);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;

  const pages = EXAMPLE_PAGES.map((page) => examples(readFileSync(path.join(ROOT, page), 'utf8')));
  const script = pages.map((p) => p.script).join('\n');
  const steps = pages.flatMap((p) => p.steps);
  expect(steps.length).toBeGreaterThan(30);
  const result = await run(script, `http://127.0.0.1:${port}`);

  const answered = steps.map((step, i) => ({ step: step.command, status: result.statuses[i] }));
  const promised = steps.map((step, i) => ({
    step: step.command,
    status: step.status ?? (result.statuses[i] >= 200 && result.statuses[i] < 300 ? result.statuses[i] : '2xx'),
  }));
  if (result.code !== 0 || result.statuses.length !== steps.length) console.log(result.output);
  expect(answered).toEqual(promised);
  expect(result.statuses).toHaveLength(steps.length);
  expect(result.code).toBe(0);
  expect(await invariantViolations(db)).toEqual([]);
}, 180_000);
