// Prisma CLI configuration (Prisma 7 reads the connection URL from here, not the schema).
// The service itself never reads this file: it gets DATABASE_URL through config/. The CLI
// migrates, so it connects as the owner (MIGRATION_DATABASE_URL), as prisma/migrate.ts does.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations', seed: 'tsx prisma/seed.ts' },
  datasource: {
    url:
      process.env.MIGRATION_DATABASE_URL ??
      process.env.DATABASE_URL ??
      'postgresql://postgres@127.0.0.1:5432/stockhold',
  },
});
