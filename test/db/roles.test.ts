/**
 * Least privilege on the real PostgreSQL: the service role (`stockhold_app`, as `npm start`
 * and the test setup create and grant it) runs the whole stock flow, but cannot rewrite
 * history — no TRUNCATE, UPDATE or DELETE on the ledger or the fences, no
 * session_replication_role, no DDL. And the managed-PostgreSQL procedure (docs/security.md):
 * an administrator runs scripts/db-roles.sql, a non-superuser owner migrates, the service
 * role works.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import type { Db } from '../../data/db';
import { createDb } from '../../data/db';
import { reconcile } from '../../data/stock/reconcile';
import { confirmStock } from '../../data/orders/confirm';
import { releaseStock } from '../../data/orders/release';
import { createHoldPool, HoldBatcher } from '../../data/orders/request-hold';
import { holdOrder, type HoldDeps } from '../../use-cases/hold-order';
import type { SagaStarter } from '../../use-cases/order-sagas';
import { migrate } from '../../prisma/migrate';
import { APPEND_ONLY_TABLES, asRole } from '../../prisma/roles';
import { invariantViolations, level, resetDb, stock, testDb } from '../helpers/db';
import { TEST_APP_DATABASE_URL, TEST_DATABASE_URL } from '../helpers/env';

let owner: Db;
let app: Client;

beforeAll(async () => {
  owner = testDb();
  app = new Client({ connectionString: TEST_APP_DATABASE_URL });
  await app.connect();
});
afterAll(async () => {
  await app?.end();
  await owner?.$disconnect();
});
beforeEach(() => resetDb(owner));

/** The SQLSTATE a statement fails with as the service role (undefined: it succeeded). */
async function refusal(sql: string, client = app): Promise<string | undefined> {
  try {
    await client.query(sql);
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

const INSUFFICIENT_PRIVILEGE = '42501';

it('the service role is a plain login role: no superuser, no role or database creation, no RLS bypass, in no other role', async () => {
  const { rows } = await app.query(`
    SELECT current_user AS name, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls,
           (SELECT count(*)::int FROM pg_auth_members m WHERE m.member = r.oid) AS memberships
      FROM pg_roles r WHERE rolname = current_user`);
  expect(rows[0]).toEqual({
    name: 'stockhold_app',
    rolsuper: false,
    rolcreaterole: false,
    rolcreatedb: false,
    rolreplication: false,
    rolbypassrls: false,
    memberships: 0,
  });
});

it('refuses TRUNCATE, UPDATE and DELETE on the ledger for lack of privilege (not only by the trigger), and leaves it as it was', async () => {
  await stock(owner, 'A', 'W1', 10);
  const before = await owner.stockMovement.findMany({ orderBy: { id: 'asc' } });
  expect(before).toHaveLength(1);
  // The admin audit log is append-only by its trigger: the policy finds it (prisma/roles.ts).
  for (const table of [...APPEND_ONLY_TABLES, 'admin_audit']) {
    expect([table, await refusal(`TRUNCATE ${table}`)]).toEqual([table, INSUFFICIENT_PRIVILEGE]);
    expect([table, await refusal(`UPDATE ${table} SET created_at = now()`)]).toEqual([table, INSUFFICIENT_PRIVILEGE]);
    expect([table, await refusal(`DELETE FROM ${table}`)]).toEqual([table, INSUFFICIENT_PRIVILEGE]);
  }
  // The tables it may change, it still may not empty in one go.
  for (const table of ['inventory_levels', 'reservations', 'saga_starts', 'products']) {
    expect([table, await refusal(`TRUNCATE ${table} CASCADE`)]).toEqual([table, INSUFFICIENT_PRIVILEGE]);
  }
  expect(await owner.stockMovement.findMany({ orderBy: { id: 'asc' } })).toEqual(before);
  expect(await invariantViolations(owner)).toEqual([]);
});

it('refuses every way around the append-only trigger: session_replication_role, disabling the trigger, DDL, the migrations table', async () => {
  expect(await refusal(`SET session_replication_role = replica`)).toBe(INSUFFICIENT_PRIVILEGE);
  expect(await refusal(`SET LOCAL session_replication_role = replica`)).toBe(INSUFFICIENT_PRIVILEGE);
  expect(await refusal(`SELECT set_config('session_replication_role', 'replica', false)`)).toBe(INSUFFICIENT_PRIVILEGE);
  expect((await app.query(`SHOW session_replication_role`)).rows[0].session_replication_role).toBe('origin');
  expect(await refusal(`ALTER TABLE stock_movements DISABLE TRIGGER stock_movements_no_update_delete`)).toBe(
    INSUFFICIENT_PRIVILEGE,
  );
  expect(await refusal(`DROP TRIGGER stock_movements_no_update_delete ON stock_movements`)).toBe(
    INSUFFICIENT_PRIVILEGE,
  );
  expect(await refusal(`DROP TABLE stock_movements`)).toBe(INSUFFICIENT_PRIVILEGE);
  expect(await refusal(`CREATE TABLE sneaky (id int)`)).toBe(INSUFFICIENT_PRIVILEGE);
  expect(
    await refusal(
      `CREATE OR REPLACE FUNCTION stock_movements_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$`,
    ),
  ).toBe(INSUFFICIENT_PRIVILEGE);
  expect(await refusal(`SELECT * FROM "_prisma_migrations"`)).toBe(INSUFFICIENT_PRIVILEGE);
  expect(await refusal(`DELETE FROM "_prisma_migrations"`)).toBe(INSUFFICIENT_PRIVILEGE);
});

it('runs the whole stock flow as the service role: receipts, group-commit and general holds, confirm, release, reconciliation', async () => {
  const db = createDb(TEST_APP_DATABASE_URL);
  const pool = createHoldPool(TEST_APP_DATABASE_URL, 2);
  try {
    await stock(db, 'A', 'W1', 10); // products, warehouses, levels, ledger (its sequence), fences
    await stock(db, 'B', 'W2', 5);
    const started: string[] = [];
    const deps: HoldDeps = {
      db,
      batcher: new HoldBatcher(db, pool, 50),
      starter: {
        start: (input: { order: { orderId: string } }) => started.push(input.order.orderId),
      } as unknown as SagaStarter,
      ttlSeconds: 600,
    };
    // One line: the group commit (stockhold_hold_batch); two lines: the general reserve.
    const one = await holdOrder(
      deps,
      { orderId: 'o1', userId: 'u', lines: [{ sku: 'A', warehouseCode: 'W1', quantity: 3 }] },
      { actor: 'key-1' },
    );
    const two = await holdOrder(
      deps,
      {
        orderId: 'o2',
        userId: 'u',
        lines: [
          { sku: 'A', warehouseCode: 'W1', quantity: 2 },
          { sku: 'B', warehouseCode: 'W2', quantity: 1 },
        ],
      },
      { actor: 'key-2' },
    );
    expect([one.status, two.status, started]).toEqual(['reserved', 'reserved', ['o1', 'o2']]);
    // The service role may name the actor of its transaction (a setting of its own, not a privilege).
    const reserves = await owner.stockMovement.findMany({
      where: { reference: { in: ['o1', 'o2'] }, reason: 'RESERVE' },
      orderBy: { id: 'asc' },
    });
    expect(reserves.map((m) => [m.reference, m.actor])).toEqual([
      ['o1', 'key-1'],
      ['o2', 'key-2'],
      ['o2', 'key-2'],
    ]);
    expect(await confirmStock(db, 'o1', 'pay-1')).toMatchObject({ status: 'confirmed' });
    expect(await releaseStock(db, 'o2', 'CANCELLED')).toMatchObject({ status: 'released' });
    // The saga's own steps are the system's, on the same pooled connections: no actor carried over.
    const closing = await owner.stockMovement.findMany({
      where: { reference: { in: ['o1', 'o2'] }, reason: { in: ['CONFIRM', 'RELEASE'] } },
    });
    expect(closing.length).toBeGreaterThan(0);
    expect(closing.every((m) => m.actor === null)).toBe(true);
    expect(await level(db, 'A', 'W1')).toEqual({ onHand: 7, reserved: 0 });
    expect(await level(db, 'B', 'W2')).toEqual({ onHand: 5, reserved: 0 });
    expect((await reconcile(db)).clean).toBe(true);
    expect(await invariantViolations(owner)).toEqual([]);
  } finally {
    await pool.end();
    await db.$disconnect();
  }
});

describe('on a managed PostgreSQL: no superuser anywhere after the administrator step', () => {
  // Names of their own, so parallel runs on one cluster never meet.
  const suffix = decodeURIComponent(new URL(TEST_DATABASE_URL).pathname.slice(1)).replace(/\W/g, '_');
  const ownerRole = `${suffix}_owner`;
  const appRole = `${suffix}_svc`;
  const database = `${suffix}_roles`;
  const admin = new URL(TEST_DATABASE_URL);
  admin.pathname = '/postgres';
  const dbUrl = (role: string) => {
    const u = new URL(asRole(TEST_DATABASE_URL, role));
    u.pathname = `/${database}`;
    return u.toString();
  };

  async function asAdmin(sql: string): Promise<void> {
    const c = new Client({ connectionString: admin.toString() });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  }

  const dropAll = async () => {
    await asAdmin(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await asAdmin(`DROP ROLE IF EXISTS "${appRole}"`);
    await asAdmin(`DROP ROLE IF EXISTS "${ownerRole}"`);
  };
  beforeAll(dropAll);
  afterAll(dropAll);

  const psql = (vars: Record<string, string>) =>
    new Promise<string>((resolve, reject) => {
      const args = [
        '-X',
        '-q',
        '-d',
        admin.toString(),
        ...Object.entries(vars).flatMap(([k, v]) => ['-v', `${k}=${v}`]),
        '-f',
        path.join(__dirname, '../../scripts/db-roles.sql'),
      ];
      execFile('psql', args, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout + stderr),
      );
    });

  it('scripts/db-roles.sql (twice: idempotent), then the owner migrates and grants, and the service role is held to the policy', async () => {
    const vars = { owner: ownerRole, app: appRole, db: database, owner_password: 'owner-pw', app_password: 'app-pw' };
    await psql(vars);
    await psql(vars);
    const roles = new Client({ connectionString: admin.toString() });
    await roles.connect();
    const attrs = await roles.query(
      `SELECT rolname, rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = ANY($1) ORDER BY rolname`,
      [[ownerRole, appRole]],
    );
    await roles.end();
    expect(attrs.rows.every((r) => !r.rolsuper && !r.rolcreaterole && !r.rolcreatedb)).toBe(true);
    expect(attrs.rows).toHaveLength(2);

    // The owner (no superuser, no CREATEROLE) runs every migration and grants the service role.
    const lines: string[] = [];
    const applied = await migrate(dbUrl(ownerRole), (l) => lines.push(l), { serviceUrl: dbUrl(appRole) });
    expect(applied.length).toBeGreaterThan(0);
    expect(lines.some((l) => l.includes(`service role ${appRole}`))).toBe(true);

    const svc = new Client({ connectionString: dbUrl(appRole) });
    await svc.connect();
    try {
      await svc.query(`INSERT INTO products (sku, name) VALUES ('K', 'k')`);
      await svc.query(`INSERT INTO warehouses (code, name) VALUES ('W', 'w')`);
      await svc.query(
        `INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta) VALUES ('K', 'W', 'r', 'x', 0, 0)`,
      );
      expect(await refusal(`UPDATE stock_movements SET reason = 'y'`, svc)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await refusal(`TRUNCATE stock_movements`, svc)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await refusal(`SET session_replication_role = replica`, svc)).toBe(INSUFFICIENT_PRIVILEGE);
      expect(await refusal(`CREATE TABLE t (id int)`, svc)).toBe(INSUFFICIENT_PRIVILEGE);
    } finally {
      await svc.end();
    }
  });

  it('a service role that is missing and that the owner may not create: the run says how to create it', async () => {
    await expect(migrate(dbUrl(ownerRole), () => {}, { serviceUrl: dbUrl(`${suffix}_nobody`) })).rejects.toThrow(
      /does not exist.*db-roles\.sql/,
    );
  });
});
