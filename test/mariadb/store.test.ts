/**
 * The store switch (issue 22): a mysql:// or mariadb:// DATABASE_URL gives the service a `Db`
 * on MariaDB; a path not built for it answers STORE_NOT_SUPPORTED before any statement is sent.
 */
import { loadConfig, ConfigError } from '../../config';
import { ping } from '../../data/db';
import { mariadbOf } from '../../data/mariadb/db';
import { DomainError, ErrorCode, httpStatusOf } from '../../domain/errors';
import { describeMariadb, mariadbServiceDb, resetMariadb } from '../helpers/mariadb';

describe('the store a DATABASE_URL names', () => {
  it('mysql:// and mariadb:// select MariaDB; postgresql:// PostgreSQL; a mixed pair is refused', () => {
    const base = { WEBHOOK_SECRET: 'test-webhook-secret', ADMIN_TOKEN: 'test-admin-token' };
    expect(
      loadConfig({
        ...base,
        DATABASE_URL: 'mariadb://app@db:3306/shop',
        MIGRATION_DATABASE_URL: 'mariadb://root@db:3306/shop',
      }).store,
    ).toBe('mariadb');
    expect(loadConfig({ ...base, DATABASE_URL: 'mysql://app@db/shop', MIGRATION_DATABASE_URL: undefined }).store).toBe(
      'mariadb',
    );
    expect(
      loadConfig({ ...base, DATABASE_URL: 'postgresql://app@db/shop', MIGRATION_DATABASE_URL: undefined }).store,
    ).toBe('postgresql');
    expect(() =>
      loadConfig({
        ...base,
        DATABASE_URL: 'mariadb://app@db/shop',
        MIGRATION_DATABASE_URL: 'postgresql://postgres@db/shop',
      }),
    ).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, DATABASE_URL: 'oracle://db/shop' })).toThrow(
      /expected postgres: or postgresql: or mysql: or mariadb:/,
    );
  });
});

describeMariadb('the service Db on MariaDB', () => {
  beforeAll(resetMariadb);

  it('answers the readiness ping and refuses PostgreSQL-only paths with STORE_NOT_SUPPORTED (501) before sending anything', async () => {
    const db = mariadbServiceDb(2);
    try {
      await expect(ping(db)).resolves.toBeUndefined();
      expect(mariadbOf(db)).toBeDefined();
      let thrown: unknown;
      try {
        await db.$queryRaw`SELECT 1`;
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(DomainError);
      expect((thrown as DomainError).code).toBe(ErrorCode.STORE_NOT_SUPPORTED);
      expect(httpStatusOf[ErrorCode.STORE_NOT_SUPPORTED]).toBe(501);
      // The commit listener the cache wiring sets is kept; the Db is not a thenable.
      db.afterCommit = async () => undefined;
      expect(typeof db.afterCommit).toBe('function');
      expect((db as unknown as { then?: unknown }).then).toBeUndefined();
    } finally {
      await db.$disconnect();
    }
  });
});
