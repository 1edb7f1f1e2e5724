/**
 * The documentation's API examples are executable and run here as a reader runs them, so they
 * cannot drift: in `npm start`'s configuration (the seeded demo data with its demo transfer in
 * flight, the development keys, the ops port serving /metrics and /docs: BASE_URL and OPS_URL),
 * in reading order (README first, then the pages in the order README's documentation table
 * lists them), every ```sh block top to bottom as one bash script against the real API and a
 * worker on a Temporal dev server. Later blocks see what earlier ones did (docs/testing.md,
 * "The documentation examples"). Each line that starts with `curl`, or assigns one's output
 * (`ID=$(curl …`), is a step; the comment after it that starts with a status (`# 201 …`) is
 * what it must answer — the status and every field the comment shows (test/helpers/doc-answers.ts:
 * `…` elides) — without one, any 2xx. Every step is checked, in order.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { listenOps } from '../../api/server';
import { bootSchedules, RUN_AT_BOOT } from '../../use-cases/schedules';
import { seedIfEmpty } from '../../prisma/seed';
import { startDemoTransfer } from '../../scripts/demo-transfer';
import { invariantViolations } from '../helpers/db';
import { eventually, useAppStack } from '../helpers/app';
import { differences, parseShown, Unfinished } from '../helpers/doc-answers';

const ROOT = path.join(__dirname, '../..');
/**
 * The pages whose `sh` blocks run, in reading order: README, then the pages of README's
 * documentation table in its order.
 */
function examplePages(): string[] {
  const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('## Documentation'));
  const listed = [...table.matchAll(/^\| \[[^\]]*\]\((docs\/[^)#]+\.md)\)/gm)].map((m) => m[1]);
  return ['README.md', ...new Set(listed)];
}
/** npm start's settings: the development secrets, and (in development) an ops port. */
const stack = useAppStack('dev', 'readme-examples-test', {
  ADMIN_TOKEN: 'dev-admin-token',
  WEBHOOK_SECRET: 'dev-webhook-secret',
  OPS_PORT: '0',
});
let ops: Server | undefined;
afterAll(async () => {
  await new Promise((resolve) => (ops ? ops.close(resolve) : resolve(undefined)));
});

/** A step: the curl line, the status its comment promises (undefined: any 2xx) and the answer it shows. */
interface Step {
  readonly command: string;
  status?: number;
  /** The comment's answer text after the status (continued on the comment lines below it). */
  shown?: string;
}

/** A line that runs one curl as a step: `curl …`, or `NAME=$(curl …` that keeps its output. */
const STEP = /^(?:[A-Za-z_][A-Za-z0-9_]*=\$\()?curl /;

function examples(markdown: string): { script: string; steps: Step[] } {
  const blocks = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  const steps: Step[] = [];
  for (const block of blocks) {
    let last: Step | undefined;
    let answering: Step | undefined; // the step whose answer the comment lines continue
    for (const line of block.split('\n')) {
      if (STEP.test(line)) steps.push((last = { command: line }));
      const promised = /^# (\d{3})\b ?(.*)$/.exec(line);
      if (promised && last && last.status === undefined) {
        last.status = Number(promised[1]);
        last.shown = promised[2];
        answering = /^[[{"]/.test(promised[2].trim()) ? last : undefined;
      } else if (answering && line.startsWith('#') && isUnfinished(answering.shown!)) {
        answering.shown += `\n${line.slice(1)}`;
      } else answering = undefined;
    }
  }
  return { script: blocks.join('\n'), steps };
}

function isUnfinished(text: string): boolean {
  try {
    parseShown(text);
    return false;
  } catch (err) {
    return err instanceof Unfinished;
  }
}

/** Where the step's answer differs from what its comment shows (none shown: nothing to compare). */
function answerDifferences(step: Step, body: string | undefined): string[] {
  const text = step.shown?.trim();
  if (!text || !/^[[{"]/.test(text)) return [];
  let actual: unknown;
  try {
    actual = JSON.parse(body ?? '');
  } catch {
    actual = body;
  }
  return differences(parseShown(text), actual);
}

/** Runs the examples with curl wrapped so that each call's status is logged, in order. */
function run(
  script: string,
  env: Record<string, string>,
): Promise<{ code: number; output: string; statuses: number[]; bodies: string[] }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'readme-'));
  const log = path.join(dir, 'statuses');
  const prelude = `set -eu
curl() {
  local body code
  body=$(mktemp)
  code=$(command curl -sS -o "$body" -w '%{http_code}' "$@") || code=000
  cat "$body"; echo
  echo "$code" >> "${log}"
  mv "$body" "${dir}/body-$(wc -l < "${log}" | tr -d ' ')"
}
`;
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', prelude + script], { env: { ...process.env, ...env } });
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
      const bodies = statuses.map((_status, i) => readFileSync(path.join(dir, `body-${i + 1}`), 'utf8'));
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: code ?? -1, output, statuses, bodies });
    });
  });
}

it("every ```sh example in README and the docs, in reading order and npm start's configuration, answers what it shows, step by step", async () => {
  const { db, app } = stack;
  // As npm start: seed an empty database, listen on the API and the ops port.
  expect(await seedIfEmpty(db)).toBe(true);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as AddressInfo;
  ops = await listenOps(app, { host: '127.0.0.1', port: 0 });
  // As npm start's worker: the schedules, and the hourly ones run once at boot (alerts, a reconciliation report).
  await bootSchedules(stack.env.client, app.deps.config);
  for (const scheduleId of RUN_AT_BOOT) {
    await eventually(
      () => stack.env.client.schedule.getHandle(scheduleId).describe(),
      (d) => d.info.recentActions.length > 0 && d.info.runningActions.length === 0,
    );
  }

  // Then, once it is ready, the demo transfer (npm start ships it after the banner).
  expect(await startDemoTransfer(stack.env.client, app.deps.config)).toBe('SHIPPED');

  const order = examplePages();
  const pages = order.map((page) => examples(readFileSync(path.join(ROOT, page), 'utf8')));
  // Every page with examples is in README's table, so it runs, where a reader meets it.
  const withExamples = readdirSync(path.join(ROOT, 'docs'))
    .map((f) => `docs/${f}`)
    .filter((f) => f.endsWith('.md') && /^```sh$/m.test(readFileSync(path.join(ROOT, f), 'utf8')));
  expect(withExamples.filter((f) => !order.includes(f))).toEqual([]);
  const script = pages.map((p) => p.script).join('\n');
  const steps = pages.flatMap((p) => p.steps);
  expect(steps.length).toBeGreaterThan(30);
  const result = await run(script, {
    BASE_URL: `http://127.0.0.1:${port}`,
    OPS_URL: `http://127.0.0.1:${(ops.address() as AddressInfo).port}`,
  });

  const answered = steps.map((step, i) => ({
    step: step.command,
    status: result.statuses[i],
    differences: answerDifferences(step, result.bodies[i]),
  }));
  const promised = steps.map((step, i) => ({
    step: step.command,
    status: step.status ?? (result.statuses[i] >= 200 && result.statuses[i] < 300 ? result.statuses[i] : '2xx'),
    differences: [],
  }));
  if (result.code !== 0 || result.statuses.length !== steps.length) console.log(result.output);
  expect(answered).toEqual(promised);
  expect(result.statuses).toHaveLength(steps.length);
  expect(result.code).toBe(0);
  expect(await invariantViolations(db)).toEqual([]);
}, 180_000);
