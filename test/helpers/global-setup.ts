/** Brings the test database up to the latest migration once per run. */
import { migrate } from '../../prisma/migrate';
import { TEST_DATABASE_URL } from './env';

export default async function globalSetup(): Promise<void> {
  await migrate(TEST_DATABASE_URL);
}
