/**
 * Fails when prisma/schema.prisma and the migrated database disagree: every model's table,
 * every scalar field's column with its type and nullability, and every primary key.
 * (Prisma's own `migrate diff` needs a schema engine this machine cannot download.)
 * And when the database's SQL functions and prisma/functions/*.sql disagree: a function with
 * no file (one a migration created), a file with no function, or a definition that is not the
 * file's (pg_get_functiondef: signature, attributes, body).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import type { Db } from '../../data/db';
import { testDb } from '../helpers/db';
import { TEST_DATABASE_URL } from '../helpers/env';

interface RuntimeField {
  name: string;
  kind: string;
  type: string;
  dbName?: string;
}
interface RuntimeModel {
  fields: RuntimeField[];
  dbName: string | null;
}

const pgType: Record<string, string> = {
  String: 'text',
  Int: 'integer',
  BigInt: 'bigint',
  DateTime: 'timestamp with time zone',
  Json: 'jsonb',
  Boolean: 'boolean',
  Float: 'double precision',
};

/** Optional fields (`name Type?`), list fields (`name Type[]`) and primary keys of each model, read from the schema text. */
function schemaFacts() {
  const text = readFileSync(path.join(__dirname, '../../prisma/schema.prisma'), 'utf8');
  const facts = new Map<string, { optional: Set<string>; lists: Set<string>; id: string[]; unsupported: string[] }>();
  for (const m of text.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)) {
    const body = m[2];
    const optional = new Set([...body.matchAll(/^\s+(\w+)\s+\w+\?/gm)].map((f) => f[1]));
    const lists = new Set([...body.matchAll(/^\s+(\w+)\s+\w+\[\]/gm)].map((f) => f[1]));
    const compound = /@@id\(\[([^\]]+)\]\)/.exec(body);
    const id = compound
      ? compound[1].split(',').map((s) => s.trim())
      : [...body.matchAll(/^\s+(\w+)\s+\w+.*@id\b/gm)].map((f) => f[1]);
    // Columns of a type Prisma cannot read (xid8), absent from its runtime model: `name Unsupported("type")?` (no @map).
    const unsupported = [...body.matchAll(/^\s+(\w+)\s+Unsupported\("(\w+)"\)(\?)?/gm)].map(
      (f) => `${f[1]} ${f[2]} ${f[3] ? 'NULL' : 'NOT NULL'}`,
    );
    facts.set(m[1], { optional, lists, id, unsupported });
  }
  return facts;
}

let db: Db;
beforeAll(() => {
  db = testDb(2);
});
afterAll(() => db.$disconnect());

it('every model, column and primary key in schema.prisma matches the migrated database', async () => {
  const models = (db as unknown as { _runtimeDataModel: { models: Record<string, RuntimeModel> } })._runtimeDataModel
    .models;
  const facts = schemaFacts();
  const columns = await db.$queryRaw<
    { table_name: string; column_name: string; data_type: string; is_nullable: string }[]
  >`
    SELECT table_name, column_name, data_type, is_nullable FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`;
  const pks = await db.$queryRaw<{ table_name: string; column_name: string }[]>`
    SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc
      JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
     WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = 'public' AND tc.table_name <> '_prisma_migrations'
     ORDER BY kcu.ordinal_position`;

  const fromSchema: string[] = [];
  const fromSchemaPks: string[] = [];
  for (const [name, model] of Object.entries(models)) {
    const table = model.dbName ?? name;
    const fact = facts.get(name)!;
    const dbNameOf = (field: string) => model.fields.find((f) => f.name === field)?.dbName ?? field;
    for (const f of model.fields.filter((f) => f.kind === 'scalar')) {
      fromSchema.push(
        `${table}.${f.dbName ?? f.name} ${fact.lists.has(f.name) ? 'ARRAY' : pgType[f.type]} ${fact.optional.has(f.name) ? 'NULL' : 'NOT NULL'}`,
      );
    }
    for (const column of fact.unsupported) fromSchema.push(`${table}.${column}`);
    for (const id of fact.id) fromSchemaPks.push(`${table}.${dbNameOf(id)}`);
  }
  const fromDb = columns.map(
    (c) => `${c.table_name}.${c.column_name} ${c.data_type} ${c.is_nullable === 'YES' ? 'NULL' : 'NOT NULL'}`,
  );
  expect(fromDb.sort()).toEqual(fromSchema.sort());
  expect(pks.map((p) => `${p.table_name}.${p.column_name}`).sort()).toEqual(fromSchemaPks.sort());
});

it('the migration runner recorded every migration the way prisma migrate does', async () => {
  const rows = await db.$queryRaw<
    { migration_name: string; checksum: string; finished_at: Date | null; applied_steps_count: number }[]
  >`
    SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations ORDER BY migration_name`;
  const { listMigrations } = await import('../../prisma/migrate');
  expect(rows.map((r) => [r.migration_name, r.checksum, r.finished_at !== null, r.applied_steps_count])).toEqual(
    listMigrations().map((m) => [m.name, m.checksum, true, 1]),
  );
});

it('every SQL function in the database is defined by its own file in prisma/functions, exactly as the file says', async () => {
  const { fileDefinitions, functionDefinitions, listFunctions, liveFunctionNames } =
    await import('../../prisma/functions');
  const files = listFunctions();
  const client = new Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    // One function per file, named as the file (an overload would be listed twice).
    expect((await liveFunctionNames(client)).sort()).toEqual(files.map((f) => f.name).sort());
    const live = await functionDefinitions(
      client,
      files.map((f) => f.name),
    );
    await client.query('BEGIN');
    const wanted = await fileDefinitions(client, files).finally(() => client.query('ROLLBACK'));
    for (const f of files) expect([f.name, live.get(f.name)]).toEqual([f.name, wanted.get(f.name)]);
  } finally {
    await client.end();
  }
});
