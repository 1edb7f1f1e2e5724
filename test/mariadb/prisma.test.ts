/**
 * Prisma's MySQL provider on MariaDB (issue 22 item 3): prisma/mysql/schema.prisma against the
 * migrated database (the drift test of the MySQL store: tables, columns, column types,
 * nullability, primary keys; and that it does see a column missing on either side), and the
 * reads the MariaDB modules make through the generated client over @prisma/adapter-mariadb
 * (products, warehouses, the ledger, the payment list and counts): their rows, their own
 * connections (closed by the Db's `$disconnect`), their timestamps whatever the process's zone,
 * and no way for a PostgreSQL-only path to reach the client.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Pool } from 'mariadb';
import { decodeCursor } from '../../domain/cursor';
import { type DomainError, ErrorCode } from '../../domain/errors';
import type { Db } from '../../data/db';
import { createMysqlPrisma, mariadbOf, mysqlPrismaOf } from '../../data/mariadb/db';
import { countPaymentsByState, listPayments, PAYMENTS_KEY, PAYMENTS_LIST } from '../../data/payments/payment-list';
import { listLevels, listProducts, listWarehouses } from '../../data/stock/catalog-lists';
import { listMovements, MOVEMENTS_KEY, MOVEMENTS_LIST } from '../../data/stock/movements';
import {
  describeMariadb,
  mariadbPool,
  mariadbServiceDb,
  resetMariadb,
  seedLevel,
  TEST_MARIADB_APP_URL,
  columnTypeSql,
} from '../helpers/mariadb';

interface RuntimeField {
  name: string;
  kind: string;
  type: string;
  dbName?: string;
}
type RuntimeModels = Record<string, { fields: RuntimeField[]; dbName: string | null }>;

/** The generated client's models (generated/prisma-mysql: what the code really reads with). */
function runtimeModels(): RuntimeModels {
  const client = createMysqlPrisma('mariadb://nobody@127.0.0.1:1/none');
  return (client as unknown as { _runtimeDataModel: { models: RuntimeModels } })._runtimeDataModel.models;
}

/** Per model, read from the schema text: optional fields, native types (`@db.…`), primary key. */
function schemaFacts(text = readFileSync(path.join(__dirname, '../../prisma/mysql/schema.prisma'), 'utf8')) {
  const facts = new Map<string, { optional: Set<string>; native: Map<string, string>; id: string[] }>();
  for (const m of text.matchAll(/^model (\w+) \{([\s\S]*?)^\}/gm)) {
    const body = m[2];
    // One field per line ([ \t], never a line break, between its parts).
    const optional = new Set([...body.matchAll(/^[ \t]+(\w+)[ \t]+\w+\?/gm)].map((f) => f[1]));
    const native = new Map(
      [...body.matchAll(/^[ \t]+(\w+)[ \t]+\w+\??[ \t].*@db\.(\w+(?:\(\d+\))?)/gm)].map((f) => [f[1], f[2]]),
    );
    const compound = /@@id\(\[([^\]]+)\]\)/.exec(body);
    const id = compound
      ? compound[1].split(',').map((s) => s.trim())
      : [...body.matchAll(/^[ \t]+(\w+)[ \t]+\w+.*@id\b/gm)].map((f) => f[1]);
    facts.set(m[1], { optional, native, id });
  }
  return facts;
}

/** The MySQL column type a Prisma field declares (Prisma's MySQL defaults where no `@db.` is given). */
function mysqlType(type: string, native: string | undefined): string {
  if (native) {
    const n = /^(\w+)(?:\((\d+)\))?$/.exec(native)!;
    const name = { VarChar: 'varchar', Char: 'char', Text: 'text', LongText: 'longtext', DateTime: 'datetime' }[n[1]];
    if (n[1] === 'UnsignedBigInt') return 'bigint unsigned';
    if (!name) throw new Error(`native type @db.${native} not mapped in this test`);
    return n[2] ? `${name}(${n[2]})` : name;
  }
  const plain: Record<string, string> = {
    String: 'varchar(191)',
    Int: 'int',
    BigInt: 'bigint',
    Boolean: 'tinyint(1)',
    Float: 'double',
    DateTime: 'datetime(3)',
    Json: 'json',
  };
  return plain[type];
}

/** `table.column type NULL|NOT NULL` of every scalar field, and `table.column` of every primary-key part. */
function fromSchema(models: RuntimeModels, facts = schemaFacts()): { columns: string[]; keys: string[] } {
  const columns: string[] = [];
  const keys: string[] = [];
  for (const [name, model] of Object.entries(models)) {
    const table = model.dbName ?? name;
    const fact = facts.get(name)!;
    for (const f of model.fields.filter((f) => f.kind === 'scalar'))
      columns.push(
        `${table}.${f.dbName ?? f.name} ${mysqlType(f.type, fact.native.get(f.name))} ${fact.optional.has(f.name) ? 'NULL' : 'NOT NULL'}`,
      );
    const columnOf = (field: string) => model.fields.find((f) => f.name === field)?.dbName ?? field;
    for (const id of fact.id) keys.push(`${table}.${columnOf(id)}`);
  }
  return { columns: columns.sort(), keys: keys.sort() };
}

/** The same lines from the live database: every base table but the migration runner's own. */
async function fromDatabase(owner: Pool): Promise<{ columns: string[]; keys: string[] }> {
  const rows = await owner.query<{ t: string; c: string; type: string; nullable: string }[]>(
    `SELECT col.table_name AS t, col.column_name AS c, col.is_nullable AS nullable,
            ${columnTypeSql('column_type')} AS type
       FROM information_schema.columns col
       JOIN information_schema.tables tab ON tab.table_schema = col.table_schema AND tab.table_name = col.table_name
      WHERE col.table_schema = DATABASE() AND tab.table_type = 'BASE TABLE' AND col.table_name <> '_stockhold_mysql_steps'`,
  );
  const keys = await owner.query<{ t: string; c: string }[]>(
    `SELECT table_name AS t, column_name AS c FROM information_schema.key_column_usage
      WHERE table_schema = DATABASE() AND constraint_name = 'PRIMARY' AND table_name <> '_stockhold_mysql_steps'`,
  );
  // Integer display widths (int(11)) are not types.
  const type = (t: string) => t.toLowerCase().replace(/^(int|bigint)\(\d+\)/, '$1');
  return {
    columns: rows.map((r) => `${r.t}.${r.c} ${type(r.type)} ${r.nullable === 'YES' ? 'NULL' : 'NOT NULL'}`).sort(),
    keys: keys.map((k) => `${k.t}.${k.c}`).sort(),
  };
}

/** What one side has and the other has not. */
function drift(schema: string[], database: string[]) {
  return {
    onlyInSchema: schema.filter((s) => !database.includes(s)),
    onlyInDatabase: database.filter((d) => !schema.includes(d)),
  };
}

describeMariadb("Prisma's MySQL schema and client on MariaDB", () => {
  let owner: Pool;
  beforeAll(async () => {
    await resetMariadb();
    owner = mariadbPool(2);
  });
  afterAll(async () => {
    await owner.end();
  });

  describe('the drift test: prisma/mysql/schema.prisma against the migrated database', () => {
    test('every table, column (type, nullability) and primary key matches', async () => {
      const schema = fromSchema(runtimeModels());
      const live = await fromDatabase(owner);
      expect(live.columns.length).toBeGreaterThan(200);
      expect(drift(schema.columns, live.columns)).toEqual({ onlyInSchema: [], onlyInDatabase: [] });
      expect(schema.keys).toEqual(live.keys);
      // Every table is a model (none left out of the schema).
      const tables = (rows: string[]) => [...new Set(rows.map((r) => r.slice(0, r.indexOf('.'))))].sort();
      expect(tables(schema.columns)).toEqual(tables(live.columns));
    });

    test('it sees a column missing on either side, and a type changed', async () => {
      const models = runtimeModels();
      // The schema without products.name (as if the field were deleted from the file).
      const withoutName: RuntimeModels = {
        ...models,
        Product: { ...models.Product, fields: models.Product.fields.filter((f) => f.name !== 'name') },
      };
      await owner.query('ALTER TABLE warehouses ADD COLUMN colour VARCHAR(16) NULL');
      await owner.query('ALTER TABLE products DROP COLUMN removal_days_before_expiry');
      await owner.query('ALTER TABLE payments MODIFY currency VARCHAR(8) NULL');
      try {
        expect(drift(fromSchema(withoutName).columns, (await fromDatabase(owner)).columns)).toEqual({
          onlyInSchema: ['payments.currency varchar(3) NULL', 'products.removal_days_before_expiry int NULL'],
          onlyInDatabase: [
            'payments.currency varchar(8) NULL',
            'products.name text NOT NULL',
            'warehouses.colour varchar(16) NULL',
          ],
        });
      } finally {
        await resetMariadb();
      }
    });
  });

  describe('the reads through it', () => {
    beforeAll(async () => {
      await resetMariadb();
      await seedLevel(owner, 'P-1', 'W-NORTH', 5);
      await seedLevel(owner, 'P-2', 'W-NORTH', 7);
      await owner.query("INSERT INTO products (sku, name, lot_tracked) VALUES ('P-0', 'zero', 1)");
      await owner.query("UPDATE warehouses SET region = 'north', priority = 3, latitude = 59.9 WHERE code = 'W-NORTH'");
      await owner.query("INSERT INTO warehouses (code, name, region) VALUES ('W-SOUTH', 'south', 'south')");
      // Reasons with LIKE's wildcards in them: a filter means them literally.
      await owner.query(
        `INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta, actor)
         VALUES ('P-1', 'W-NORTH', 'ADJUST:A_B', 'adj-1', 1, 0, 'k1'), ('P-1', 'W-NORTH', 'ADJUST:AXB', 'adj-2', 1, 0, 'k1'),
                ('P-1', 'W-NORTH', 'ADJUST:A%B:NOTE', 'adj-3', 1, 0, 'k2'), ('P-1', 'W-NORTH', 'AD%JUST', 'adj-4', 1, 0, 'k2')`,
      );
      // Five payments, three at one instant: the keyset breaks the tie by order, then payment id.
      await owner.query(
        `INSERT INTO payments (order_id, payment_id, event_id, amount_cents, state, received_at, settled_at) VALUES
           ('o-1', 'p-1', 'e-1', 100, 'PENDING',   '2026-01-02 03:04:05.678', NULL),
           ('o-2', 'p-1', 'e-2', 200, 'CONFIRMED', '2026-01-02 03:04:05.678', '2026-01-02 03:05:00.001'),
           ('o-2', 'p-2', 'e-3', 300, 'CONFIRMED', '2026-01-02 03:04:05.678', '2026-01-02 03:05:00.002'),
           ('o-0', 'p-9', 'e-4', 400, 'REFUNDED',  '2026-01-02 03:04:05.677', '2026-01-03 00:00:00.000'),
           ('o-9', 'p-0', 'e-5', 500, 'PENDING',   '2026-01-02 03:04:05.679', NULL)`,
      );
    });

    test('no PostgreSQL-only path reaches it: only mysqlPrismaOf does, and it offers no transaction', async () => {
      const db = mariadbServiceDb(1);
      try {
        const prisma = mysqlPrismaOf(db);
        expect(prisma).toBeDefined();
        for (const read of [
          () => (db as unknown as { product: unknown }).product,
          () => (db as unknown as { mysqlPrisma: unknown }).mysqlPrisma,
          () => db.$transaction,
        ]) {
          let thrown: unknown;
          try {
            read();
          } catch (err) {
            thrown = err;
          }
          expect((thrown as DomainError).code).toBe(ErrorCode.STORE_NOT_SUPPORTED);
        }
        // @ts-expect-error Transactions set their isolation level on the driver (data/mariadb/tx.ts), not here.
        expect(typeof prisma!.$transaction).toBe('function');
        expect(mysqlPrismaOf({})).toBeUndefined();
      } finally {
        await db.$disconnect();
      }
    });

    test('products, warehouses, the ledger and payments are read on its own connections (the driver pool ended)', async () => {
      const db = mariadbServiceDb(2);
      try {
        await mariadbOf(db)!.end();
        // A driver read fails now …
        await expect(listLevels(db, {}, 10)).rejects.toThrow(/closed/);
        // … these do not: they are Prisma's.
        const products = await listProducts(db, 2);
        expect(products.data.map((p) => [p.sku, p.lotTracked])).toEqual([
          ['P-0', true],
          ['P-1', false],
        ]);
        const rest = await listProducts(db, 2, decodeCursor('products', products.nextCursor!, ['text']));
        expect(rest).toMatchObject({
          data: [{ sku: 'P-2', name: 'P-2', alertDaysBeforeExpiry: null }],
          hasMore: false,
        });
        expect((await listWarehouses(db, { region: 'north' }, 10)).data).toEqual([
          expect.objectContaining({ code: 'W-NORTH', region: 'north', priority: 3, latitude: 59.9, longitude: null }),
        ]);
        expect((await listWarehouses(db, {}, 10)).data.map((w) => w.code)).toEqual(['W-NORTH', 'W-SOUTH']);

        const reasons = async (f: Parameters<typeof listMovements>[1]) =>
          (await listMovements(db, f, 10)).data.map((m) => m.reference);
        expect(await reasons({ reason: 'A_B' })).toEqual(['adj-1']);
        expect(await reasons({ reason: 'A%B' })).toEqual(['adj-3']);
        expect(await reasons({ kind: 'AD%' })).toEqual([]);
        expect(await reasons({ kind: 'AD%JUST' })).toEqual(['adj-4']);
        expect(await reasons({ kind: 'ADJUST', actor: 'k1' })).toEqual(['adj-2', 'adj-1']);
        const first = await listMovements(db, { sku: 'P-1' }, 3);
        expect(first.data.map((m) => [m.reference, m.txId])).toEqual([
          ['adj-4', null],
          ['adj-3', null],
          ['adj-2', null],
        ]);
        const after = decodeCursor(MOVEMENTS_LIST, first.nextCursor!, MOVEMENTS_KEY);
        expect((await listMovements(db, { sku: 'P-1' }, 3, after)).data.map((m) => m.reference)).toEqual([
          'adj-1',
          'seed',
        ]);

        // Payments page by page (two at a time) equal the store's own order, ties included.
        const seen: string[] = [];
        let cursor: string | null = null;
        do {
          const page = await listPayments(
            db,
            {},
            2,
            cursor ? decodeCursor(PAYMENTS_LIST, cursor, PAYMENTS_KEY) : undefined,
          );
          seen.push(...page.data.map((p) => `${p.orderId}/${p.paymentId} ${p.receivedAt} ${p.settledAt}`));
          cursor = page.nextCursor;
        } while (cursor);
        const wanted = await owner.query<{ k: string }[]>(
          `SELECT CONCAT(order_id, '/', payment_id, ' ', DATE_FORMAT(received_at, '%Y-%m-%dT%H:%i:%s.%fZ'), ' ',
                         COALESCE(DATE_FORMAT(settled_at, '%Y-%m-%dT%H:%i:%s.%fZ'), 'null')) AS k
             FROM payments ORDER BY received_at DESC, order_id DESC, payment_id DESC`,
        );
        // The server's microseconds (%f) as JavaScript's milliseconds.
        expect(seen).toEqual(wanted.map((w) => w.k.replace(/(\.\d{3})\d{3}Z/g, '$1Z')));
        expect(seen[0]).toBe('o-9/p-0 2026-01-02T03:04:05.679Z null');
        expect(
          (await listPayments(db, { state: 'CONFIRMED', orderId: 'o-2' }, 10)).data.map((p) => p.paymentId),
        ).toEqual(['p-2', 'p-1']);
        expect(await countPaymentsByState(db)).toEqual({ PENDING: 2, CONFIRMED: 2, REFUNDED: 1 });
      } finally {
        // The driver pool is already ended: $disconnect says so, and still closes Prisma's.
        await db.$disconnect().catch(() => undefined);
      }
      expect(await sessionsOfServiceUser()).toBe(0);
    });

    test("DATETIME(3) read and compared through it is UTC whatever the process's zone", async () => {
      const [row] = await owner.query<{ at: string }[]>(
        `SELECT DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.%fZ') AS at FROM stock_movements WHERE reference = 'adj-2'`,
      );
      // The service's processes run in UTC (platform/mariadb.ts: the driver would shift DATETIME
      // by the zone). Prisma's client does not need it: a process 5 hours off UTC reads the
      // same instant, and a Date parameter of that instant is `>=` the row and not `<` it.
      const script = `
        const { createMysqlPrisma } = require(${JSON.stringify(path.join(__dirname, '../../data/mariadb/db'))});
        const prisma = createMysqlPrisma(${JSON.stringify(TEST_MARIADB_APP_URL)}, 1);
        (async () => {
          const m = await prisma.stockMovement.findFirstOrThrow({ where: { reference: 'adj-2' } });
          const count = (createdAt) => prisma.stockMovement.count({ where: { reference: 'adj-2', createdAt } });
          console.log(JSON.stringify({
            offset: new Date(0).getTimezoneOffset(),
            at: m.createdAt.toISOString(),
            fromIt: await count({ gte: new Date(m.createdAt) }),
            beforeIt: await count({ lt: new Date(m.createdAt) }),
          }));
          await prisma.$disconnect();
        })();`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', '-e', script], {
        env: { ...process.env, TZ: 'America/New_York' },
        timeout: 60_000,
      });
      expect(JSON.parse(stdout)).toEqual({
        offset: 300,
        at: new Date(row.at).toISOString(),
        fromIt: 1,
        beforeIt: 0,
      });
    });

    /** Sessions of the service user on this test database (Prisma's pool and the driver's). */
    async function sessionsOfServiceUser(): Promise<number> {
      // A closed session leaves the process list within moments: look a few times.
      for (let i = 0; ; i++) {
        const [{ n }] = await owner.query<{ n: number }[]>(
          "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = 'stockhold_app' AND DB = DATABASE()",
        );
        if (Number(n) === 0 || i >= 50) return Number(n);
        await new Promise((r) => setTimeout(r, 100));
      }
    }

    test("the Db's $disconnect closes Prisma's connections with the driver's", async () => {
      const db: Db = mariadbServiceDb(2);
      await listProducts(db, 1);
      await mariadbOf(db)!.query('SELECT 1');
      expect(await sessionsNow()).toBeGreaterThanOrEqual(2);
      await db.$disconnect();
      expect(await sessionsOfServiceUser()).toBe(0);
    });

    async function sessionsNow(): Promise<number> {
      const [{ n }] = await owner.query<{ n: number }[]>(
        "SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE USER = 'stockhold_app' AND DB = DATABASE()",
      );
      return Number(n);
    }
  });
});
