/**
 * jest.config.js: both stores in `npm test` (issue 22 item 4). The `mariadb` project names its
 * suites one by one; a renamed or deleted file would silently drop out of it, so each must exist
 * and also run in the `postgresql` project.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

interface Project {
  displayName: string;
  testMatch: string[];
  setupFiles?: string[];
  globalSetup?: string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const config = require('../../jest.config.js') as { projects: Project[] };
const ROOT = path.resolve(__dirname, '../..');
const byName = (name: string) => config.projects.find((p) => p.displayName === name)!;

it('the mariadb project runs existing suites of the API, workflow and e2e folders, with the MariaDB store', () => {
  const mariadb = byName('mariadb');
  const files = mariadb.testMatch.map((m) => m.replace('<rootDir>/', ''));
  for (const file of files) expect([file, existsSync(path.join(ROOT, file))]).toEqual([file, true]);
  for (const folder of ['test/api/', 'test/workflows/', 'test/e2e/'])
    expect(files.filter((f) => f.startsWith(folder)).length).toBeGreaterThan(0);
  expect(mariadb.setupFiles).toEqual(['<rootDir>/test/helpers/store-mariadb.ts']);
  expect(mariadb.globalSetup).toBe('<rootDir>/test/helpers/global-setup-mariadb.ts');
  expect(byName('postgresql').testMatch).toEqual(['**/*.test.ts']);
});
