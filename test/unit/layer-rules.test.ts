/**
 * The floors and the one-owner-per-table rule (issue 17) refuse what they say they refuse.
 * A miniature house is built in a scratch directory — the repository's own
 * .dependency-cruiser.cjs, eslint.config.mjs and both Prisma schemas, copied unchanged, and a
 * few stand-in modules — with one planted violation per rule beside imports the rules allow.
 * depcruise and eslint then run there as `npm run lint` runs them, and each verdict is
 * compared with the list of what was planted: a rule that stops firing, or one that starts
 * refusing an allowed import, fails this test.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

/** Code that talks to PostgreSQL directly: allowed in data/ (and prisma/, tests, bench, chaos), refused elsewhere. */
const QUERIES = (up: string) => `import { PrismaClient } from '${up}generated/prisma/client';
import type { Db } from '${up}data/db';

export async function planted(db: Db, tx: Db): Promise<number> {
  await db.$queryRaw\`SELECT 1\`;
  await tx.sagaStart.updateMany({ where: { startedAt: null }, data: { startedAt: new Date() } });
  return new PrismaClient() ? 1 : 0;
}
`;

const HOUSE: Record<string, string> = {
  'generated/prisma/client.ts': 'export class PrismaClient {}\n',
  'generated/prisma-mysql/client.ts': 'export class PrismaClient {}\n',
  'data/db.ts': `export type Db = { $queryRaw(q: TemplateStringsArray): Promise<unknown>; sagaStart: { updateMany(a: object): Promise<unknown> } };\n`,
  'domain/types.ts': 'export type OrderId = string;\n',
  'domain/order-saga.ts': 'export interface OrderState {\n  orderId: string;\n}\n',
  'workflows/ids.ts': 'export const orderWorkflowId = (id: string): string => `order-${id}`;\n',
  'workflows/messages.ts': 'export const statusQuery = 1;\n',
  'platform/queue.ts': 'export const queue = 1;\n',
  'activities/sweep.ts': 'export const sweep = 1;\n',
  'use-cases/hold-order.ts': 'export const holdOrder = 1;\n',
  'api/schemas.ts': 'export const schemas = 1;\n',
  'api/routes/orders/hold.ts': 'export const hold = 1;\n',
  'api/routes/orders/index.ts': "import { hold } from './hold';\nexport const orders = hold;\n",

  // platform/: knows no table and no workflow, nothing above it.
  'platform/planted.ts': `import type { Db } from '../data/db';
import { orderWorkflowId } from '../workflows/ids';
import { holdOrder } from '../use-cases/hold-order';
import { queue } from './queue';
export const planted = (db: Db): unknown => [db, orderWorkflowId, holdOrder, queue];
`,
  // data/: nothing of workflows/ (the saga types it stores are in domain/), nothing above.
  'data/planted.ts': `${QUERIES('../')}import type { OrderState } from '../domain/order-saga';
import { statusQuery } from '../workflows/messages';
import { orderWorkflowId } from '../workflows/ids';
import { sweep } from '../activities/sweep';
import { queue } from '../platform/queue';
export const uses = (s: OrderState): unknown => [s, statusQuery, orderWorkflowId, sweep, queue];
`,
  // use-cases/: calls data/, platform/, workflows/; never an entry point.
  'use-cases/planted.ts': `import type { Db } from '../data/db';
import { orderWorkflowId } from '../workflows/ids';
import { queue } from '../platform/queue';
import { sweep } from '../activities/sweep';
import { schemas } from '../api/schemas';
export const planted = (db: Db): unknown => [db, orderWorkflowId, queue, sweep, schemas];
`,
  // activities/: never the API.
  'activities/planted.ts': `import { holdOrder } from '../use-cases/hold-order';
import { schemas } from '../api/schemas';
export const planted = [holdOrder, schemas];
`,
  // A route: its own folder, use-cases/ and api/ itself are fine; another route folder or an activity is not; nor are queries.
  'api/routes/campaigns/index.ts': `${QUERIES('../../../')}import { hold } from '../orders/hold';
import { sweep } from '../../../activities/sweep';
import { holdOrder } from '../../../use-cases/hold-order';
import { schemas } from '../../schemas';
import { local } from './local';
export const uses = [hold, sweep, holdOrder, schemas, local];
`,
  'api/routes/campaigns/local.ts': 'export const local = 1;\n',
  // Prisma's MySQL client is data/'s too, and its models' delegates (one only MySQL has) are queries.
  'use-cases/mysql-planted.ts': `import { PrismaClient } from '../generated/prisma-mysql/client';
export async function planted(prisma: { stockholdKeyLock: { findMany(): Promise<unknown> } }): Promise<unknown> {
  return [await prisma.stockholdKeyLock.findMany(), PrismaClient];
}
`,
  // Outside checkers may query directly.
  'test/planted.test.ts': QUERIES('../'),
};

/** Every depcruise verdict expected on the house: rule, from, to. */
const EXPECTED_DEPCRUISE = [
  'activities-not-to-api: activities/planted.ts → api/schemas.ts',
  'data-not-to-workflows: data/planted.ts → workflows/ids.ts',
  'data-not-up: data/planted.ts → activities/sweep.ts',
  'data-not-to-workflows: data/planted.ts → workflows/messages.ts',
  'no-route-to-route: api/routes/campaigns/index.ts → api/routes/orders/hold.ts',
  'platform-not-to-data: platform/planted.ts → data/db.ts',
  'platform-not-to-workflows: platform/planted.ts → workflows/ids.ts',
  'platform-not-up: platform/planted.ts → use-cases/hold-order.ts',
  'prisma-client-only-in-data: api/routes/campaigns/index.ts → generated/prisma/client.ts',
  'prisma-client-only-in-data: use-cases/mysql-planted.ts → generated/prisma-mysql/client.ts',
  'routes-not-to-activities: api/routes/campaigns/index.ts → activities/sweep.ts',
  'use-cases-not-to-entry-points: use-cases/planted.ts → activities/sweep.ts',
  'use-cases-not-to-entry-points: use-cases/planted.ts → api/schemas.ts',
];

/** The data-access refusals expected from eslint: file, line, rule. */
const EXPECTED_ESLINT = [
  'api/routes/campaigns/index.ts:1 @typescript-eslint/no-restricted-imports',
  'api/routes/campaigns/index.ts:5 no-restricted-syntax',
  'api/routes/campaigns/index.ts:6 no-restricted-syntax',
  'use-cases/mysql-planted.ts:1 @typescript-eslint/no-restricted-imports',
  'use-cases/mysql-planted.ts:3 no-restricted-syntax',
];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'stockhold-layers-'));
  for (const file of [
    '.dependency-cruiser.cjs',
    'eslint.config.mjs',
    'prisma/schema.prisma',
    'prisma/mysql/schema.prisma',
  ]) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    copyFileSync(path.join(ROOT, file), path.join(dir, file));
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  writeFileSync(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        target: 'es2022',
        module: 'commonjs',
        moduleResolution: 'node',
        types: [],
        skipLibCheck: true,
      },
      include: ['**/*.ts'],
    }),
  );
  for (const [file, text] of Object.entries(HOUSE)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), text);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(bin: string, args: string[]): string {
  const result = spawnSync(path.join(ROOT, 'node_modules/.bin', bin), args, {
    cwd: dir,
    encoding: 'utf8',
    timeout: 100_000,
  });
  if (result.error) throw result.error;
  return result.stdout;
}

it('depcruise refuses every planted arrow that runs the wrong way, and nothing else', () => {
  const report = JSON.parse(
    run('depcruise', [
      'activities',
      'api',
      'data',
      'domain',
      'platform',
      'test',
      'use-cases',
      'workflows',
      '--config',
      '.dependency-cruiser.cjs',
      '--output-type',
      'json',
    ]),
  ) as {
    summary: { violations: { rule: { name: string }; from: string; to: string }[] };
  };
  const found = report.summary.violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
  expect(found).toEqual([...EXPECTED_DEPCRUISE].sort());
});

it('eslint refuses queries and the Prisma client above data/, and allows them in data/ and tests', () => {
  const files = [
    'api/routes/campaigns/index.ts',
    'data/planted.ts',
    'test/planted.test.ts',
    'use-cases/planted.ts',
    'use-cases/mysql-planted.ts',
  ];
  const report = JSON.parse(run('eslint', ['--format', 'json', ...files])) as {
    filePath: string;
    messages: { ruleId: string | null; line: number; message: string }[];
  }[];
  const found = report.flatMap((r) =>
    r.messages
      .filter((m) => m.ruleId === null || /restricted/.test(m.ruleId))
      .map((m) => `${path.relative(dir, r.filePath)}:${m.line} ${m.ruleId ?? m.message}`),
  );
  expect(found.sort()).toEqual([...EXPECTED_ESLINT].sort());
});
