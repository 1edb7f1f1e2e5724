/**
 * The `mariadb` jest project's global setup: the MariaDB test database dropped, recreated and
 * migrated (the service user with its grants), as test/helpers/global-setup.ts does for
 * PostgreSQL. The driver reads DATETIME in the process's zone: the test processes run in UTC.
 */
import { resetMariadb } from './mariadb';

export default async function globalSetup(): Promise<void> {
  process.env.TZ = 'UTC';
  await resetMariadb();
}
