/**
 * The operator side on MariaDB (issue 22) through the real API (`useAppStack(..., 'mariadb')`:
 * the API and the worker on the MariaDB test database as the service user, Redis, Temporal's
 * dev server): API keys created, scoped and revoked; every admin request audited, the
 * audit log append-only for the service user; alerts raised once and listed; reconciliation clean
 * on a consistent store and reporting a drift made as the owner. Mirrors test/api/auth.test.ts,
 * test/db/reconcile.test.ts and the alerts' tests of PostgreSQL.
 */
import type { Pool } from 'mariadb';
import { Registry } from 'prom-client';
import {
  AlertKind,
  countAlertsByKind,
  markAlertDelivered,
  pendingAlerts,
  raiseAlert,
  raiseExpiryAlerts,
} from '../../data/alerts/stock-alerts';
import { latestReconciliation, reconcile } from '../../data/stock/reconcile';
import { storeGaugeReader } from '../../data/store-gauges';
import { registerStoreGauges } from '../../platform/store-gauges';
import { createKey } from '../../data/keys/api-keys';
import { Scope } from '../../domain/api-keys';
import { jsonValue } from '../../data/mariadb/tx';
import { asDataError } from '../../data/data-errors';
import { useAppStack } from '../helpers/app';
import { describeMariadb, mariadbPool, seedCampaign, seedLevel, TEST_MARIADB_APP_URL } from '../helpers/mariadb';

const TASK_QUEUE = 'mariadb-ops-test';
const BOOTSTRAP = { authorization: 'Bearer test-admin-token' };
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
/** The key id inside `sk_<id>_<secret>`. */
const idOf = (key: string) => key.slice(3, 19);

describeMariadb('the operator side on MariaDB', () => {
  const stack = useAppStack('dev', TASK_QUEUE, {}, undefined, 'mariadb');
  let owner: Pool;
  let service: Pool;

  beforeAll(() => {
    owner = mariadbPool(2);
    service = mariadbPool(2, TEST_MARIADB_APP_URL);
  });
  afterAll(async () => {
    await owner?.end();
    await service?.end();
  });

  describe('API keys and the audit log', () => {
    it('a key created through POST /admin/keys works with its scope and not above it; revoked, it is 401 at once', async () => {
      const created = await stack.app.inject({
        method: 'POST',
        url: '/admin/keys',
        headers: BOOTSTRAP,
        payload: { name: 'stock reader', scopes: ['inventory:read'] },
      });
      expect(created.statusCode).toBe(201);
      const { key, id } = created.json();
      expect(key).toMatch(new RegExp(`^sk_${id}_`));
      expect(created.json()).toMatchObject({
        name: 'stock reader',
        scopes: ['inventory:read'],
        createdBy: 'bootstrap',
        expiresAt: null,
        revokedAt: null,
      });
      const listed = await stack.app.inject({ method: 'GET', url: '/admin/keys', headers: BOOTSTRAP });
      expect(listed.statusCode).toBe(200);
      expect(listed.json().keys.find((k: { id: string }) => k.id === id)).toMatchObject({ id, name: 'stock reader' });
      expect(JSON.stringify(listed.json())).not.toContain(key.slice(-20));

      // Its scope lets it read alerts; an admin route is above it.
      const read = () => stack.app.inject({ method: 'GET', url: '/alerts', headers: bearer(key) });
      expect((await read()).statusCode).toBe(200);
      const above = await stack.app.inject({ method: 'GET', url: '/admin/keys', headers: bearer(key) });
      expect([above.statusCode, above.json().code]).toEqual([403, 'FORBIDDEN']);

      // An admin key (made as the CLI does) revokes it: the next request is refused.
      const admin = (await createKey(stack.db, { name: 'ops admin', scopes: [Scope.ADMIN], createdBy: 'test' })).key;
      const revoked = await stack.app.inject({
        method: 'POST',
        url: `/admin/keys/${id}/revoke`,
        headers: bearer(admin),
      });
      expect(revoked.statusCode).toBe(200);
      expect(revoked.json()).toMatchObject({ id, revokedBy: idOf(admin) });
      const refused = await read();
      expect([refused.statusCode, refused.json().message]).toEqual([401, 'this API key is revoked']);
      // A second revoke changes nothing and answers the first; an unknown key is 404.
      const again = await stack.app.inject({ method: 'POST', url: `/admin/keys/${id}/revoke`, headers: BOOTSTRAP });
      expect(again.json().revokedAt).toBe(revoked.json().revokedAt);
      expect(
        (await stack.app.inject({ method: 'POST', url: '/admin/keys/0000000000000000/revoke', headers: BOOTSTRAP }))
          .statusCode,
      ).toBe(404);

      // An expired key is refused; the store's CHECK refuses an unknown scope even past the API.
      const expired = (
        await createKey(stack.db, {
          name: 'old',
          scopes: [Scope.INVENTORY_READ],
          expiresAt: new Date(Date.now() - 1000),
          createdBy: 'test',
        })
      ).key;
      const late = await stack.app.inject({ method: 'GET', url: '/alerts', headers: bearer(expired) });
      expect([late.statusCode, late.json().message]).toEqual([401, 'this API key has expired']);
      await expect(
        service.query(
          "INSERT INTO api_keys (id, name, hash, scopes, created_by) VALUES ('x', 'x', 'x', '[\"root\"]', 'test')",
        ),
      ).rejects.toMatchObject({ errno: 4025 });
    });

    it('every admin request writes an audit row naming its key; the service user cannot UPDATE or DELETE them', async () => {
      const admin = (await createKey(stack.db, { name: 'auditor', scopes: [Scope.ADMIN], createdBy: 'test' })).key;
      const before = await owner.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM admin_audit');
      const posts = [
        { name: 'audited one', scopes: ['orders'] },
        { name: 'audited two', scopes: ['ops'] },
      ];
      for (const payload of posts) {
        const res = await stack.app.inject({ method: 'POST', url: '/admin/keys', headers: bearer(admin), payload });
        expect(res.statusCode).toBe(201);
      }
      // A read is not audited (as on PostgreSQL): only the two POSTs are.
      await stack.app.inject({ method: 'GET', url: '/admin/keys', headers: bearer(admin) });
      const rows = await owner.query<{ actor: string; method: string; route: string; body: unknown }[]>(
        'SELECT actor, method, route, body FROM admin_audit WHERE actor = ? ORDER BY id',
        [idOf(admin)],
      );
      expect(rows.map((r) => [r.actor, r.method, r.route])).toEqual([
        [idOf(admin), 'POST', '/admin/keys'],
        [idOf(admin), 'POST', '/admin/keys'],
      ]);
      expect(rows.map((r) => jsonValue(r.body))).toEqual(posts);
      const after = await owner.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM admin_audit');
      expect(Number(after[0]!.n) - Number(before[0]!.n)).toBe(2);

      // Append-only: the service user holds no UPDATE or DELETE on it (1142), the owner meets the trigger (45000).
      await expect(service.query("UPDATE admin_audit SET actor = 'someone else'")).rejects.toMatchObject({
        errno: 1142,
      });
      await expect(service.query('DELETE FROM admin_audit')).rejects.toMatchObject({ errno: 1142 });
      await expect(owner.query('DELETE FROM admin_audit')).rejects.toMatchObject({ sqlState: '45000' });
      await expect(
        service.query("INSERT INTO admin_audit (actor, method, route, url) VALUES ('t', 'POST', '/x', '/x')"),
      ).resolves.toBeDefined();
    });

    it('a body the audit cannot store (a lone surrogate: JSON_VALID refuses it) is a 409 that changes nothing, not a 500; store refusals are final, a duplicate key is not', async () => {
      // Found by chaos scenario 8 on MariaDB. PostgreSQL's json input refuses it too (400 INVALID_INPUT, 22P02).
      // A product only: the reconciliation test below counts the levels.
      await owner.query("INSERT INTO products (sku, name) VALUES ('AUDIT-SUR', 'AUDIT-SUR')");
      const audits = async () =>
        Number((await owner.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM admin_audit'))[0]!.n);
      const before = await audits();
      const res = await stack.app.inject({
        method: 'PUT',
        url: '/admin/products/AUDIT-SUR',
        headers: { ...BOOTSTRAP, 'content-type': 'application/json', 'idempotency-key': 'sur' },
        payload: '{"name":"\\ud800"}',
      });
      expect([res.statusCode, res.json().code, res.json().details]).toEqual([
        409,
        'CONSTRAINT_VIOLATION',
        { sqlState: '23000', errno: 4025, constraint: 'admin_audit.body' },
      ]);
      expect(await audits()).toBe(before);
      const [product] = await owner.query<{ name: string }[]>("SELECT name FROM products WHERE sku = 'AUDIT-SUR'");
      expect(product!.name).toBe('AUDIT-SUR');

      const refusal = (work: Promise<unknown>) =>
        work.then(
          () => undefined,
          (err: unknown) => asDataError(err),
        );
      const tooLong = await refusal(service.query("INSERT INTO products (sku, name) VALUES (REPEAT('x', 300), 'n')"));
      expect([tooLong?.code, (tooLong?.details as { sqlState: string }).sqlState]).toEqual(['INVALID_INPUT', '22001']);
      const orphan = await refusal(
        service.query("INSERT INTO inventory_levels (sku, warehouse_code) VALUES ('NO-SUCH-SKU', 'W1')"),
      );
      expect([orphan?.code, (orphan?.details as { errno: number }).errno]).toEqual(['CONSTRAINT_VIOLATION', 1452]);
      expect(await refusal(service.query("INSERT INTO products (sku, name) VALUES ('AUDIT-SUR', 'again')"))).toBe(
        undefined,
      );
    });
  });

  describe('alerts', () => {
    /** A lot-tracked level with two lots, each received through the ledger: one due for its alert, one past removal. */
    const seedLots = async () => {
      await owner.query("INSERT INTO products (sku, name, lot_tracked) VALUES ('LOTTED', 'lotted', TRUE)");
      await owner.query("INSERT IGNORE INTO warehouses (code, name) VALUES ('W1', 'W1')");
      await owner.query("INSERT INTO inventory_levels (sku, warehouse_code, on_hand) VALUES ('LOTTED', 'W1', 8)");
      for (const [lot, quantity, alertAt, removeAt] of [
        ['L-NEAR', 5, '- INTERVAL 1 HOUR', '+ INTERVAL 5 DAY'],
        ['L-GONE', 3, '- INTERVAL 3 DAY', '- INTERVAL 1 HOUR'],
      ] as const) {
        await owner.query(
          `INSERT INTO stock_lots (sku, warehouse_code, lot_code, quantity, expires_at, alert_at, remove_at)
           VALUES ('LOTTED', 'W1', ?, ?, UTC_TIMESTAMP(3) + INTERVAL 10 DAY, UTC_TIMESTAMP(3) ${alertAt}, UTC_TIMESTAMP(3) ${removeAt})`,
          [lot, quantity],
        );
        await owner.query(
          `INSERT INTO stock_movements (sku, warehouse_code, reason, reference, on_hand_delta, reserved_delta, lot_code)
           VALUES ('LOTTED', 'W1', 'RECEIPT', ?, ?, 0, ?)`,
          [`receipt-${lot}`, quantity, lot],
        );
      }
    };

    it('an alert is raised once per (kind, subject) even by concurrent raisers; lot alerts once each; listed, paged, delivered once', async () => {
      const overdue = {
        kind: AlertKind.TRANSFER_OVERDUE,
        subject: 'transfer:T-1',
        sku: 'LOTTED',
        warehouseCode: 'W1',
        details: { transferId: 'T-1' },
      };
      const raised = await Promise.all(Array.from({ length: 10 }, () => raiseAlert(stack.db, overdue)));
      expect(raised.reduce((a, b) => a + b, 0)).toBe(1);
      expect(await raiseAlert(stack.db, overdue)).toBe(0);

      await seedLots();
      // Two expiry passes at once raise each lot's alert once: NEAR_EXPIRY for the lot due, EXPIRED (only) for the one past removal.
      const passes = await Promise.all([raiseExpiryAlerts(stack.db), raiseExpiryAlerts(stack.db)]);
      expect(passes[0]! + passes[1]!).toBe(2);
      expect(await raiseExpiryAlerts(stack.db)).toBe(0);
      const [{ n }] = await owner.query<{ n: number }[]>('SELECT COUNT(*) AS n FROM stock_alerts');
      expect(Number(n)).toBe(3);

      const all = await stack.app.inject({ method: 'GET', url: '/alerts' });
      expect(all.statusCode).toBe(200);
      expect(all.json().data.map((a: { kind: string; lotCode: string | null }) => [a.kind, a.lotCode])).toEqual([
        expect.anything(),
        expect.anything(),
        [AlertKind.TRANSFER_OVERDUE, null],
      ]);
      expect(all.json().alerts).toEqual(all.json().data);
      const expired = await stack.app.inject({ method: 'GET', url: '/alerts?kind=EXPIRED' });
      expect(expired.json().data).toEqual([
        expect.objectContaining({
          kind: 'EXPIRED',
          sku: 'LOTTED',
          warehouseCode: 'W1',
          lotCode: 'L-GONE',
          details: expect.objectContaining({ quantity: 3 }),
          deliveredAt: null,
        }),
      ]);
      expect(Date.parse(expired.json().data[0].details.removeAt)).toBeLessThan(Date.now());
      // Paged newest first: one per page, the cursor leads to the next, the last page says so.
      const first = (await stack.app.inject({ method: 'GET', url: '/alerts?limit=2' })).json();
      expect([first.data.length, first.hasMore]).toEqual([2, true]);
      const rest = (
        await stack.app.inject({ method: 'GET', url: `/alerts?limit=2&cursor=${encodeURIComponent(first.nextCursor)}` })
      ).json();
      expect([rest.data.map((a: { id: string }) => a.id), rest.hasMore, rest.nextCursor]).toEqual([
        [all.json().data[2].id],
        false,
        null,
      ]);

      // The webhook's queue: oldest first; marked delivered once (a second mark keeps the first time).
      const pending = await pendingAlerts(stack.db, 10);
      expect(pending.map((a) => a.kind)).toEqual([AlertKind.TRANSFER_OVERDUE, expect.any(String), expect.any(String)]);
      await markAlertDelivered(stack.db, pending[0]!.id);
      const [{ at }] = await owner.query<{ at: Date }[]>('SELECT delivered_at AS at FROM stock_alerts WHERE id = ?', [
        pending[0]!.id.toString(),
      ]);
      await new Promise((r) => setTimeout(r, 5));
      await markAlertDelivered(stack.db, pending[0]!.id);
      const [{ again }] = await owner.query<{ again: Date }[]>(
        'SELECT delivered_at AS again FROM stock_alerts WHERE id = ?',
        [pending[0]!.id.toString()],
      );
      expect(again.getTime()).toBe(at.getTime());
      expect((await pendingAlerts(stack.db, 10)).length).toBe(2);
      expect(await countAlertsByKind(stack.db)).toEqual([
        { kind: 'EXPIRED', raised: 1, undelivered: 1 },
        { kind: 'NEAR_EXPIRY', raised: 1, undelivered: 1 },
        { kind: 'TRANSFER_OVERDUE', raised: 1, undelivered: 0 },
      ]);
    });
  });

  describe('reconciliation and the store gauges', () => {
    it('a consistent store reconciles clean, recorded and served by GET /admin/reconciliation; the callbacks are called and stored', async () => {
      await seedLevel(owner, 'OPS-SKU', 'W1', 10);
      await seedLevel(owner, 'SALE-SKU', 'W1', 20);
      await seedCampaign(owner, 'SALE-1', 'SALE-SKU', 'W1', 6, 2);
      const report = await reconcile(stack.db);
      expect(report).toMatchObject({ clean: true, drifts: [], levelsChecked: 3, unsettledPayments: [] });
      const served = await stack.app.inject({ method: 'GET', url: '/admin/reconciliation' });
      expect(served.statusCode).toBe(200);
      // The route's schema shows every field but the saga mismatches (as on PostgreSQL).
      const { sagaMismatches, ...shown } = report;
      expect([served.json(), sagaMismatches]).toEqual([shown, []]);

      // What the callbacks (the payments' and the sagas' checks) return is part of the run.
      const unsettled = {
        orderId: 'o-1',
        paymentId: 'p-1',
        amountCents: 100,
        receivedAt: new Date().toISOString(),
        action: 'REPORTED',
      };
      const withPayment = await reconcile(stack.db, async () => [unsettled]);
      expect(withPayment).toMatchObject({ clean: false, drifts: [], unsettledPayments: [unsettled] });
      expect(Number(withPayment.runId)).toBeGreaterThan(Number(report.runId));
      expect((await latestReconciliation(stack.db))?.runId).toBe(withPayment.runId);
    });

    it('reports the drifts made as the owner: a level apart from its ledger, a user count apart from its holds, more held than may be sold', async () => {
      await owner.query("UPDATE inventory_levels SET on_hand = on_hand + 2 WHERE sku = 'OPS-SKU'");
      await owner.query(
        "INSERT INTO campaign_user_counts (campaign_id, user_id, quantity) VALUES ('SALE-1', 'u-ghost', 1)",
      );
      await owner.query("UPDATE inventory_levels SET safety_stock = 16 WHERE sku = 'SALE-SKU'");
      const report = await reconcile(stack.db);
      expect(report.clean).toBe(false);
      expect(report.drifts).toEqual([
        { check: 'ON_HAND_VS_LEDGER', sku: 'OPS-SKU', warehouseCode: 'W1', lotCode: null, recorded: 12, expected: 10 },
        { check: 'AVAILABLE_NEGATIVE', sku: 'SALE-SKU', warehouseCode: 'W1', lotCode: null, recorded: -2, expected: 0 },
        {
          check: 'USER_COUNT_VS_HOLDS',
          sku: 'SALE-SKU',
          warehouseCode: 'W1',
          lotCode: null,
          subject: 'SALE-1/u-ghost',
          recorded: 1,
          expected: 0,
        },
      ]);
      const served = await stack.app.inject({ method: 'GET', url: '/admin/reconciliation' });
      expect(served.json()).toMatchObject({ runId: report.runId, clean: false, drifts: report.drifts });
    });

    it('the store gauges read MariaDB at scrape time (no event backlog here, and the scrape still answers)', async () => {
      const registry = new Registry();
      registerStoreGauges(registry, storeGaugeReader(stack.db), {
        graceSeconds: 60,
        maxAgeMs: 0,
        onError: (err) => {
          throw err;
        },
      });
      const read = async (name: string) => {
        const { values } = await registry.getSingleMetric(name)!.get();
        return Object.fromEntries(values.map((v) => [Object.values(v.labels).join(',') || '', v.value]));
      };
      expect(await read('stockhold_holds_active')).toEqual({ '': 0 });
      expect(await read('stockhold_campaign_quota_units')).toEqual({ 'SALE-1,SALE-SKU,FLASH_SALE': 6 });
      expect(await read('stockhold_campaign_sold_units')).toEqual({ 'SALE-1,SALE-SKU,FLASH_SALE': 0 });
      // A hold in the sale (an hour from expiry: no sweeper touches it) moves the gauges that count holds.
      await owner.query(
        `INSERT INTO reservations (id, order_id, user_id, campaign_id, status, expires_at)
         VALUES ('r-gauge', 'o-gauge', 'u-gauge', 'SALE-1', 'RESERVED', UTC_TIMESTAMP(3) + INTERVAL 1 HOUR)`,
      );
      await owner.query(
        "INSERT INTO reservation_lines (reservation_id, sku, warehouse_code, quantity) VALUES ('r-gauge', 'SALE-SKU', 'W1', 2)",
      );
      expect(await read('stockhold_holds_active')).toEqual({ '': 1 });
      expect(await read('stockhold_campaign_held_units')).toEqual({ 'SALE-1,SALE-SKU,FLASH_SALE': 2 });
      expect(await registry.metrics()).toContain('stockhold_holds_past_expiry 0');
    });
  });
});
