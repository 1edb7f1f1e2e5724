/** Test settings: a dedicated database, never the one `npm start` uses. */
import { loadConfig, type Config } from '../../config';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/stockhold_test';

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    DATABASE_URL: TEST_DATABASE_URL,
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0',
    WEBHOOK_SECRET: 'test-webhook-secret',
    ADMIN_TOKEN: 'test-admin-token',
    LOG_LEVEL: 'silent',
    ...overrides,
  });
}
